# frozen_string_literal: true

require "json"

module StatsTracker
  class CLI
    # The streams a command talks to, and the few ways it talks: results as one JSON object
    # per line on stdout, everything meant for a person on stderr.
    class Console
      attr_reader :stdin, :stdout, :stderr, :env

      def initialize(stdin:, stdout:, stderr:, env:)
        @stdin = stdin
        @stdout = stdout
        @stderr = stderr
        @env = env
        @pretty = false
      end

      attr_writer :pretty

      def emit(object)
        @stdout.write(@pretty ? JSON.pretty_generate(object) : JSON.generate(object), "\n")
        @stdout.flush
      end

      def warn(message)
        @stderr.write("stats-tracker: #{message}\n")
        @stderr.flush
      end

      def progress
        @progress ||= Progress.new(@stderr)
      end
    end
  end
end
