# frozen_string_literal: true

module StatsTracker
  module E2E
    # Counted checks: each passes or fails with a message, prints one line as it ends, and the run
    # closes with `e2e: N passed, M failed`. After a failed set-up step, later checks that need it
    # are counted as failed, naming the step that blocked them; nothing is skipped silently.
    class Checks
      Result = Struct.new(:name, :ok, :message, :seconds, keyword_init: true)

      attr_reader :results

      # on_failure: ->(result) {} for each check that ran and failed, called at once, while what
      # it ran against is still there (the Pods a later check replaces take their logs with them).
      def initialize(io: $stdout, on_failure: ->(_result) {})
        @io = io
        @on_failure = on_failure
        @results = []
        @blocked_by = nil
      end

      # setup: true means later checks cannot run without this one.
      def run(name, setup: false)
        if @blocked_by
          return record(Result.new(name: name, ok: false, message: "not run: set-up step '#{@blocked_by}' failed", seconds: 0))
        end

        started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        message = yield
        record(Result.new(name: name, ok: true, message: message.is_a?(String) ? message : nil, seconds: elapsed(started)))
      rescue StandardError => e
        @blocked_by = name if setup
        record(Result.new(name: name, ok: false, message: "#{e.class}: #{e.message}", seconds: elapsed(started)))
          .tap { |result| keep(result) }
      end

      # Checks that run regardless of earlier failures (teardown).
      def always(name, &)
        blocked = @blocked_by
        @blocked_by = nil
        run(name, &)
      ensure
        @blocked_by = blocked
      end

      def passed = results.count(&:ok)

      def failed = results.count { |r| !r.ok }

      def summary = "e2e: #{passed} passed, #{failed} failed"

      private

      def elapsed(started) = (Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).round(1)

      def keep(result)
        @on_failure.call(result)
      rescue StandardError => e
        @io.puts("     could not keep what the failure left: #{e.class}: #{e.message}")
      end

      def record(result)
        @results << result
        status = result.ok ? "ok  " : "FAIL"
        @io.puts("#{status} #{result.name} (#{result.seconds} s)#{result.message ? ": #{result.message}" : ""}")
        @io.flush
        result
      end
    end
  end
end
