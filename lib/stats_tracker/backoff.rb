# frozen_string_literal: true

module StatsTracker
  # Exponential backoff with "equal jitter": attempt n waits a random value in [d/2, d] with
  # d = min(cap, base * factor**n). The jitter keeps many clients that failed together from
  # retrying in lock-step; the lower half that is always waited keeps the growth visible. The
  # fetcher's retries and the operator's work queue and informers all use it.
  class Backoff
    attr_reader :base, :cap

    def initialize(base: 1.0, cap: 300.0, factor: 2.0, random: Random.new)
      @base = base.to_f
      @cap = cap.to_f
      @factor = factor.to_f
      @random = random
    end

    # cap: this call's ceiling instead of the configured one (the operator caps each object's
    # backoff relative to its own interval).
    def ceiling(attempt, cap: nil)
      [cap || @cap, @base * (@factor**attempt.clamp(0, 64))].min
    end

    def delay(attempt, cap: nil)
      top = ceiling(attempt, cap: cap)
      (top / 2) + (@random.rand * top / 2)
    end
  end
end
