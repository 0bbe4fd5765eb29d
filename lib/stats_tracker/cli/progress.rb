# frozen_string_literal: true

module StatsTracker
  class CLI
    # One self-overwriting status line on stderr, only when stderr is a terminal: progress
    # is for a person watching, and must not end up in logs or in a pipe.
    class Progress
      def initialize(io, enabled: io.respond_to?(:tty?) && io.tty?)
        @io = io
        @enabled = enabled
        @shown = false
      end

      def update(message)
        return unless @enabled

        @io.print("\r\e[K#{message}")
        @io.flush
        @shown = true
      end

      def finish
        return unless @enabled && @shown

        @io.print("\r\e[K")
        @io.flush
        @shown = false
      end
    end
  end
end
