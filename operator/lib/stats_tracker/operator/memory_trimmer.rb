# frozen_string_literal: true

require_relative "malloc_trim"

module StatsTracker
  module Operator
    # Runs MallocTrim every `interval` seconds until `stop` is signalled, counting the trims
    # and the RSS they gave back on /metrics. A trim walks the arenas under malloc's locks:
    # tens of milliseconds at most, once a minute by default.
    class MemoryTrimmer
      TRIMS = "stats_tracker_malloc_trims_total"
      RELEASED = "stats_tracker_malloc_trim_released_bytes_total"

      def self.register_metrics(metrics)
        metrics.counter(TRIMS, "malloc_trim calls (MALLOC_TRIM_INTERVAL)")
        metrics.counter(RELEASED, "Resident memory malloc_trim gave back to the kernel, in bytes")
      end

      def initialize(interval:, stop:, metrics:, trim: MallocTrim)
        @interval = interval
        @stop = stop
        @metrics = metrics
        @trim = trim
      end

      # The trimming thread, or nil when trimming is off or not available.
      def start
        return nil unless @interval&.positive? && @trim.available?

        @thread = Thread.new do
          Thread.current.name = "malloc trim"
          run
        end
      end

      def join(timeout = nil)
        @thread&.join(timeout)
      end

      private

      def run
        until @stop.stopped?
          @stop.wait(@interval)
          break if @stop.stopped?

          released = @trim.call.to_i
          @metrics.increment(TRIMS, {})
          @metrics.increment(RELEASED, {}, released)
        end
      end
    end
  end
end
