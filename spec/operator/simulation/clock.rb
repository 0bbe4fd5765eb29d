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

    # One replica's view of the simulated time: its monotonic clock starts anywhere and ticks
    # at its own rate, its wall clock is off by its own skew. Leader election is safe only while
    # monotonic rates differ by less than lease_duration / renew_deadline (client-go assumes
    # clocks tick at about the same rate and lets wall clocks disagree freely): rates here stay
    # within RATE_DRIFT of true time, wall clocks within minutes.
    class ReplicaClock
      RATE_DRIFT = 0.01

      def initialize(clock:, offset:, rate:, skew:)
        @clock = clock
        @offset = offset
        @rate = rate
        @skew = skew
      end

      def now
        @clock.now
      end

      def monotonic
        @offset + (@clock.now * @rate)
      end

      def wall
        @clock.wall + @skew
      end

      def advance(seconds)
        @clock.advance(seconds)
      end
    end

    # A pause inside a simulated process: the Fiber that runs it yields the seconds, and the
    # world resumes it once that much simulated time has passed.
    module Wait
      def self.for(seconds)
        Fiber.yield(seconds) if seconds.positive?
        true
      end
    end

    # The StopSignal a simulated process's loops wait on: a wait is a Wait, cut short by stop!
    # (the world resumes a stopped process's Fiber at once).
    class SimStop
      def initialize
        @stopped = false
        @waiting = false
      end

      def stop!
        @stopped = true
      end

      def stopped?
        @stopped
      end

      # Whether the process waits here now (a stop cuts such a wait short, not a request).
      def waiting?
        @waiting
      end

      def wait(seconds = nil)
        unless @stopped
          @waiting = true
          Wait.for(seconds || Float::INFINITY)
        end
        @stopped
      ensure
        @waiting = false
      end
    end
  end
end
