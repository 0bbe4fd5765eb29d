# frozen_string_literal: true

require "erb"

module StatsTracker
  module Dashboard
    # Server-rendered SVG charts: no script, no external asset, so the page works offline and
    # prints. Every point carries its value in data-* attributes, which the browser specs
    # compare with the store.
    module Svg
      WIDTH = 640
      HEIGHT = 200
      PAD = 8

      module_function

      # points: [[Time, Integer], ...] in time order.
      def line_chart(points, label:)
        return empty(label) if points.empty?

        xs = scale(points.map { |t, _| t.to_i }, PAD, WIDTH - PAD)
        ys = scale(points.map { |_, v| v }, HEIGHT - PAD, PAD)
        coords = xs.zip(ys)
        path = coords.map { |x, y| "#{x.round(1)},#{y.round(1)}" }.join(" ")
        dots = points.zip(coords).map do |(time, value), (x, y)|
          %(<circle class="point" cx="#{x.round(1)}" cy="#{y.round(1)}" r="3" ) +
            %(data-time="#{time.utc.iso8601}" data-value="#{value}"><title>#{time.utc.iso8601}: #{value}</title></circle>)
        end
        frame(label, %(<polyline class="line" points="#{path}"/>#{dots.join}))
      end

      # days: [DailyCount, ...] ascending.
      def bar_chart(days, label:)
        return empty(label) if days.empty?

        high = [days.map(&:count).max, 1].max
        slot = (WIDTH - (2 * PAD)) / days.size.to_f
        bars = days.each_with_index.map do |day, i|
          height = (HEIGHT - (2 * PAD)) * day.count / high.to_f
          %(<rect class="bar" x="#{(PAD + (i * slot)).round(1)}" y="#{(HEIGHT - PAD - height).round(1)}" ) +
            %(width="#{[slot - 1, 1].max.round(1)}" height="#{height.round(1)}" data-date="#{day.date.iso8601}" ) +
            %(data-value="#{day.count}"><title>#{day.date.iso8601}: #{day.count}</title></rect>)
        end
        frame(label, bars.join)
      end

      def sparkline(values, label:)
        return %(<span class="muted">no data</span>) if values.empty?

        xs = scale((0...values.size).to_a, 1, 99)
        ys = scale(values, 23, 1)
        points = xs.zip(ys).map { |x, y| "#{x.round(1)},#{y.round(1)}" }.join(" ")
        %(<svg class="spark" viewBox="0 0 100 24" role="img" aria-label="#{ERB::Util.html_escape(label)}" ) +
          %(preserveAspectRatio="none"><polyline points="#{points}"/></svg>)
      end

      def frame(label, body)
        %(<svg class="chart" viewBox="0 0 #{WIDTH} #{HEIGHT}" role="img" ) +
          %(aria-label="#{ERB::Util.html_escape(label)}" preserveAspectRatio="none">#{body}</svg>)
      end

      def empty(label)
        %(<p class="muted">#{ERB::Util.html_escape(label)}: nothing recorded yet</p>)
      end

      # Maps values linearly onto [from, to]; a flat series sits in the middle. Floats keep
      # 13-digit counts exact enough for pixels.
      def scale(values, from, to)
        low, high = values.minmax
        return values.map { (from + to) / 2.0 } if high == low

        values.map { |v| from + ((v - low).to_f / (high - low) * (to - from)) }
      end
    end
  end
end
