# frozen_string_literal: true

module StatsTracker
  module Operator
    module Reconcilers
      # The pages of a listing read so far, when the GitHub budget ran out before its last page:
      # the next reconcile goes on from there instead of holding a worker until a token comes.
      # Kept in memory per Project uid and only for the generation it was read for (a spec change
      # starts again from page 1), and for at most MAX_AGE: a pass stitched together over a long
      # time would describe no moment of the listing.
      class ListingProgress
        MAX_AGE = 600.0

        def initialize(clock:)
          @clock = clock
          @passes = {}
          @lock = Mutex.new
        end

        # The IncompleteListingError (:interrupted) to resume from, or nil to start at page 1.
        def resume(project)
          uid = project.dig(:metadata, :uid)
          @lock.synchronize do
            pass = @passes[uid]
            next nil unless pass
            next pass[:stopped] if pass[:generation] == project.dig(:metadata, :generation) && !expired?(pass)

            @passes.delete(uid)
            nil
          end
        end

        # Remembers where a pass stopped; the pass keeps the time of its first page.
        def keep(project, stopped)
          uid = project.dig(:metadata, :uid)
          @lock.synchronize do
            started = @passes[uid]&.fetch(:started) || @clock.call
            @passes[uid] = { generation: project.dig(:metadata, :generation), stopped: stopped, started: started }
          end
        end

        def forget(uid)
          @lock.synchronize { @passes.delete(uid) }
        end

        private

        def expired?(pass)
          @clock.call - pass[:started] > MAX_AGE
        end
      end
    end
  end
end
