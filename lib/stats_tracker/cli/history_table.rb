# frozen_string_literal: true

module StatsTracker
  class CLI
    # The `history --format table` text: a summary with sparklines and the 7/30-day change,
    # then one line per distinct total.
    module HistoryTable
      module_function

      def render(name, summary, observations, daily)
        require_relative "../dashboard/numbers"
        numbers = Dashboard::Numbers
        lines = ["#{name}: #{numbers.grouped(summary.total_downloads)} downloads",
                 "  change      7 days #{numbers.change(summary.change_7d)}   30 days #{numbers.change(summary.change_30d)}"]
        unless daily.empty?
          lines << "  per day     #{History::Trend.sparkline(daily.last(30).map(&:count))}  " \
                   "(#{daily.last(30).first.date} .. #{daily.last.date}, GitHub's bars)"
        end
        lines << "  total       #{History::Trend.sparkline(observations.map(&:total_downloads))}" unless observations.empty?
        lines << ""
        lines << format("  %-20s  %-20s  %20s  %14s", "first seen", "last seen", "total", "change")
        previous = nil
        observations.each do |o|
          delta = previous && numbers.change(o.total_downloads - previous)
          lines << format("  %-20s  %-20s  %20s  %14s", o.observed_at.iso8601, o.last_seen_at.iso8601,
                          numbers.grouped(o.total_downloads), delta || "")
          previous = o.total_downloads
        end
        "#{lines.join("\n")}\n"
      end
    end
  end
end
