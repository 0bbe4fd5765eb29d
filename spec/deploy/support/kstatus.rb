# frozen_string_literal: true

module StatsTracker
  module Testing
    # The status a Flux health check (kstatus, kubernetes-sigs/cli-utils pkg/kstatus/status)
    # computes for a custom resource, in kstatus's order of rules. Written from its documented
    # behaviour, so a spec can say "Flux would call this Current" instead of re-deriving it.
    module Kstatus
      module_function

      # object: a parsed resource with String keys.
      def compute(object)
        return :terminating if object.dig("metadata", "deletionTimestamp")

        observed = object.dig("status", "observedGeneration")
        return :in_progress if !observed.nil? && observed != object.dig("metadata", "generation")

        conditions = Array(object.dig("status", "conditions")).to_h { |c| [c["type"], c["status"]] }
        return :in_progress if conditions["Reconciling"] == "True"
        return :failed if conditions["Stalled"] == "True"
        return :current if conditions["Ready"] == "True"
        return :in_progress if conditions.key?("Ready")

        :current
      end
    end
  end
end
