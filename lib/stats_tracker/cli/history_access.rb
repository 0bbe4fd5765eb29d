# frozen_string_literal: true

module StatsTracker
  class CLI
    # Opens the history store for the commands that need it. Loaded on demand so `parse` and
    # a plain `fetch` never load Sequel; a store failure becomes exit status 6 and one line.
    module HistoryAccess
      module_function

      def open(console)
        require_relative "../history"
        StatsTracker::History.open(env: console.env)
      end

      # Runs the block; a History::Error is reported and turned into STORE_FAILED.
      def guarded(console)
        require_relative "../history/errors"
        yield
      rescue StatsTracker::History::Error => e
        console.warn(e.message)
        ExitCodes::STORE_FAILED
      end
    end
  end
end
