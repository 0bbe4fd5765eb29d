# frozen_string_literal: true

module StatsTracker
  module Operator
    module Reconcilers
      # The mass-deletion guard of the Project reconciler. A package that GitHub's listing no longer
      # shows may be gone, or the listing may have been short for a moment (a page GitHub served
      # without its "next" link, a package briefly hidden): its Leaf holds history that cannot be
      # re-read, so it is deleted only when two complete listings in a row have missed it.
      # Memory only: after a restart the count starts again, which can delay a deletion by one
      # listing but never hasten one.
      class DeletionGuard
        def initialize
          @missing = {}
          @lock = Mutex.new
        end

        # missing: names of the Project's Leafs whose package this complete listing lacks.
        # Returns those the previous complete listing lacked too.
        def confirm(project_uid, missing)
          @lock.synchronize do
            before = @missing.fetch(project_uid, [])
            @missing[project_uid] = missing.dup.freeze
            missing & before
          end
        end

        def forget(project_uid)
          @lock.synchronize { @missing.delete(project_uid) }
        end
      end
    end
  end
end
