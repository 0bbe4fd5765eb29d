# frozen_string_literal: true

require "json"

module StatsTracker
  module Operator
    # Decides whether a desired status differs from the stored one, ignoring what the API server
    # does not preserve (nil-valued keys, condition order). Skipping equal writes is what keeps a
    # reconcile that finds nothing due at zero API requests.
    module StatusDiff
      module_function

      def changed?(current, desired)
        canonical(current || {}) != canonical(desired || {})
      end

      def canonical(value)
        case value
        when Hash
          value.each_with_object({}) do |(k, v), out|
            next if v.nil?

            out[k.to_s] = k.to_s == "conditions" ? canonical(Array(v).sort_by { |c| c[:type].to_s }) : canonical(v)
          end
        when Array then value.map { |v| canonical(v) }
        else value
        end
      end

      # SSA treats an explicit null as a value to own; send only what is set.
      def compact(value)
        case value
        when Hash then value.each_with_object({}) { |(k, v), out| out[k] = compact(v) unless v.nil? }
        when Array then value.map { |v| compact(v) }
        else value
        end
      end
    end
  end
end
