# frozen_string_literal: true

module StatsTracker
  class History
    # Derived numbers for people: the N-day change and a one-line sparkline.
    module Trend
      BARS = %w[▁ ▂ ▃ ▄ ▅ ▆ ▇ █].freeze
      DAY = 86_400

      module_function

      # Downloads during the last `days` days. GitHub's daily bars are exact per-day counts and
      # exist from the first observation on, so they are preferred; without them, the
      # difference between the latest total and the total as it stood `days` ago. nil when
      # neither can say.
      def change(observations:, daily:, days:, now: Time.now)
        unless daily.empty?
          last = daily.last.date
          return daily.select { |d| d.date > last - days }.sum(&:count)
        end
        return nil if observations.empty?

        cutoff = now.to_i - (days * DAY)
        base = observations.reverse.find { |o| o.observed_at.to_i <= cutoff }
        base && (observations.last.total_downloads - base.total_downloads)
      end

      def sparkline(values)
        return "" if values.empty?

        low, high = values.minmax
        span = high - low
        values.map { |v| span.zero? ? BARS[0] : BARS[((v - low) * (BARS.size - 1) / span.to_f).round] }.join
      end
    end
  end
end
