# frozen_string_literal: true

module StatsTracker
  module Operator
    # Go's time.ParseDuration subset used by Flux-style `spec.interval` fields ("1h30m", "2s", "500ms").
    module Duration
      UNITS = { "ns" => 1e-9, "us" => 1e-6, "µs" => 1e-6, "ms" => 1e-3, "s" => 1.0, "m" => 60.0, "h" => 3600.0 }.freeze
      PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/
      WHOLE = /\A(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+\z/

      class InvalidError < ArgumentError; end

      # The shortest spec.interval accepted (the CRDs say the same): shorter ones would let one
      # object spend the whole shared GitHub budget.
      MIN_INTERVAL = 60.0

      module_function

      # Returns seconds as a Float; raises InvalidError on anything Go would reject (we do not
      # accept signs: a negative interval has no meaning here).
      def parse(text)
        str = text.to_s.strip
        return 0.0 if str == "0"
        raise InvalidError, "invalid duration #{text.inspect}" unless WHOLE.match?(str)

        str.scan(PART).sum { |num, unit| num.to_f * UNITS.fetch(unit) }
      end

      # A spec.interval in seconds; raises InvalidError below MIN_INTERVAL too.
      def interval(text)
        seconds = parse(text)
        return seconds if seconds >= MIN_INTERVAL

        raise InvalidError, "interval #{text.inspect} is shorter than the minimum of 1m"
      end
    end
  end
end
