# frozen_string_literal: true

module StatsTracker
  module Operator
    module Controller
      # Exponential backoff with full jitter over a base delay: attempt n waits a random value in
      # [d/2, d] with d = min(cap, base * factor**n). Jitter keeps many failing Leafs from retrying
      # in lock-step against GitHub; the lower bound keeps the growth visible.
      class Backoff
        attr_reader :base, :cap

        def initialize(base: 1.0, cap: 300.0, factor: 2.0, random: Random.new)
          @base = base.to_f
          @cap = cap.to_f
          @factor = factor.to_f
          @random = random
        end

        def ceiling(attempt)
          [@cap, @base * (@factor**attempt.clamp(0, 64))].min
        end

        def delay(attempt)
          top = ceiling(attempt)
          (top / 2) + (@random.rand * top / 2)
        end
      end
    end
  end
end
