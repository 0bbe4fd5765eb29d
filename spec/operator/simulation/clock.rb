# frozen_string_literal: true

module StatsTracker
  module Simulation
    # Simulated time. `monotonic` is what the operator's timers read; `wall` is what it writes in
    # statuses and compares lastUpdate against, and can be skewed like a node's clock.
    class Clock
      EPOCH = Time.utc(2026, 1, 1)

      attr_reader :now, :skew

      def initialize
        @now = 0.0
        @skew = 0.0
      end

      def monotonic
        @now
      end

      def wall
        EPOCH + @now + @skew
      end

      def advance(seconds)
        @now += seconds.to_f if seconds.positive?
      end

      def skew_to(seconds)
        @skew = seconds.to_f
      end
    end
  end
end
