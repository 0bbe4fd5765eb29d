# frozen_string_literal: true

module StatsTracker
  module Operator
    module Controller
      # Process-wide token bucket for requests to GitHub, shared by every worker, plus a pause that
      # a 429 with Retry-After can impose on all of them (GitHub rate-limits per client, not per page).
      # Optional reads (versions pages) take only spare tokens, so they never delay a count.
      class RateLimiter
        def initialize(rate:, burst:, clock: -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) })
          @rate = rate.to_f
          @burst = burst.to_f
          @clock = clock
          @tokens = @burst
          @stamp = clock.call
          @paused_until = 0.0
          @waiting = 0
          # Tokens an optional read must leave in the bucket for the counts that come next.
          @reserve = (@burst / 2).floor
          @lock = Mutex.new
        end

        # Seconds to wait before a token is available (0 when one was taken now).
        def reserve
          @lock.synchronize do
            now = @clock.call
            refill(now)
            pause = @paused_until - now
            return pause if pause.positive?

            if @tokens >= 1
              @tokens -= 1
              0.0
            else
              (1 - @tokens) / @rate
            end
          end
        end

        # Blocks until a token is taken or `stopping` turns true; returns false when stopped.
        def acquire(stopping: -> { false }, sleeper: ->(s) { sleep s })
          loop do
            return false if stopping.call

            wait = reserve
            return true if wait.zero?

            waiting(+1)
            begin
              sleeper.call([wait, 0.5].min)
            ensure
              waiting(-1)
            end
          end
        end

        # Takes a token for an optional request only if one is spare: nobody is waiting in
        # #acquire, GitHub has not paused us, and half the burst stays in the bucket. Never waits.
        def try_acquire_spare
          @lock.synchronize do
            now = @clock.call
            refill(now)
            next false if @waiting.positive? || @paused_until > now || @tokens < 1 + @reserve

            @tokens -= 1
            true
          end
        end

        # Whether a request could start now, without taking a token.
        def ready?
          @lock.synchronize do
            now = @clock.call
            refill(now)
            @paused_until <= now && @tokens >= 1
          end
        end

        def pause_for(seconds)
          @lock.synchronize { @paused_until = [@paused_until, @clock.call + seconds.to_f].max }
        end

        private

        def waiting(delta)
          @lock.synchronize { @waiting += delta }
        end

        def refill(now)
          @tokens = [@burst, @tokens + ((now - @stamp) * @rate)].min
          @stamp = now
        end
      end
    end
  end
end
