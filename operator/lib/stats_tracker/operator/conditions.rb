# frozen_string_literal: true

module StatsTracker
  module Operator
    # kstatus/Flux condition helpers over plain Hash conditions (symbol keys, as the API returns
    # them with as: :parsed_symbolized). Ready is always present; Reconciling and Stalled are
    # "abnormal-true" and are removed rather than set to False.
    module Conditions
      READY = "Ready"
      RECONCILING = "Reconciling"
      STALLED = "Stalled"

      module_function

      def find(conditions, type)
        Array(conditions).find { |c| c[:type] == type }
      end

      def status_of(conditions, type)
        find(conditions, type)&.fetch(:status, nil)
      end

      def true?(conditions, type)
        status_of(conditions, type) == "True"
      end

      # Returns a new array; lastTransitionTime only moves when the status flips, so an
      # unchanged condition compares equal and no write is needed.
      def set(conditions, type:, status:, reason:, message:, generation:, now:)
        current = find(conditions, type)
        transition = current && current[:status] == status ? current[:lastTransitionTime] : timestamp(now)
        fresh = { type: type, status: status, observedGeneration: generation, lastTransitionTime: transition,
                  reason: reason, message: message.to_s[0, 32_000] }
        Array(conditions).reject { |c| c[:type] == type } + [fresh]
      end

      def remove(conditions, type)
        Array(conditions).reject { |c| c[:type] == type }
      end

      def timestamp(time)
        time.utc.strftime("%Y-%m-%dT%H:%M:%SZ")
      end
    end
  end
end
