# frozen_string_literal: true

require_relative "../conditions"

module StatsTracker
  module Operator
    module Reconcilers
      # What one reconcile found, in kstatus terms. state is one of Summary::STATES; reason is a
      # condition reason (Succeeded, Progressing, RateLimited, ...).
      Result = Struct.new(:state, :reason, :message, keyword_init: true)

      # The one place where a reconcile's Result becomes conditions: Ready always, Reconciling
      # and Stalled only while true (kstatus "abnormal-true" conditions), as Flux's summarize does.
      module Summary
        STATES = %i[succeeded failed stalled progressing suspended].freeze
        WAITING_FOR_BUDGET = "WaitingForGitHubBudget"

        module_function

        # Reconciling=True while the object waits for a GitHub token. The message gives the wait
        # as it was when the wait began: rewriting it at every turn would be a status write each time.
        def waiting_for_budget(current, seconds, generation:, now:)
          return current if Conditions.find(current, Conditions::RECONCILING)&.dig(:reason) == WAITING_FOR_BUDGET

          message = "waiting #{seconds.ceil}s for the GitHub request budget (GITHUB_RATE), then reading GitHub"
          conditions(current, Result.new(state: :progressing, reason: WAITING_FOR_BUDGET, message: message),
                     generation: generation, now: now)
        end

        def conditions(current, result, generation:, now:)
          set = lambda do |list, type, status|
            Conditions.set(list, type: type, status: status, reason: result.reason, message: result.message,
                                 generation: generation, now: now)
          end
          settled = without(current, Conditions::RECONCILING, Conditions::STALLED)
          case result.state
          when :succeeded then set.call(settled, Conditions::READY, "True")
          when :failed then set.call(settled, Conditions::READY, "False")
          when :stalled then set.call(set.call(settled, Conditions::STALLED, "True"), Conditions::READY, "False")
          when :progressing
            list = set.call(current, Conditions::RECONCILING, "True")
            Conditions.find(list, Conditions::READY) ? list : set.call(list, Conditions::READY, "Unknown")
          when :suspended then without(current, Conditions::RECONCILING)
          else raise ArgumentError, "unknown reconcile state #{result.state.inspect}"
          end
        end

        def without(conditions, *types)
          types.reduce(conditions) { |list, type| Conditions.remove(list, type) }
        end
      end
    end
  end
end
