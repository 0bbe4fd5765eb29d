# frozen_string_literal: true

module StatsTracker
  class CLI
    # Loads the native extension only when a command needs it, so --help works (and says
    # how to build it) even where the extension was never compiled.
    module ParserAccess
      KINDS = %w[package versions listing].freeze

      module_function

      def parser
        require_relative "../../stats_tracker"
        StatsTracker::Parser.new
      end

      def wasmtime_version
        require_relative "../../stats_tracker"
        StatsTracker.wasmtime_version
      end
    end
  end
end
