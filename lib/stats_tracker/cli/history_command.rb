# frozen_string_literal: true

require "date"
require_relative "command"
require_relative "history_access"
require_relative "history_table"

module StatsTracker
  class CLI
    # `stats-tracker history OWNER/PACKAGE`: the recorded series of one package, as a table
    # for people (sparkline, 7/30-day change), CSV for spreadsheets or JSON for scripts.
    class HistoryCommand < Command
      BANNER = "Usage: stats-tracker history OWNER/PACKAGE [--since DATE] [--format table|csv|json]"
      ABOUT = <<~TEXT
        Prints what `fetch --record` (or the operator) stored for a package. The store is
        STATS_TRACKER_DATABASE_URL, or SQLite under ${XDG_DATA_HOME:-~/.local/share}/stats_tracker/.
      TEXT
      FORMATS = %w[table csv json].freeze

      def initialize(console)
        super
        @settings = { format: "table" }
      end

      def run(args)
        targets = options.parse(args)
        raise UsageError, "history needs one OWNER/PACKAGE" unless targets.size == 1 && targets.first.match?(%r{\A[^/]+/.+\z})

        owner, package = targets.first.split("/", 2)
        HistoryAccess.guarded(@console) { show(owner, package) }
      end

      private

      def define_options(opts)
        opts.on("--since DATE", "Only observations last seen on or after DATE (YYYY-MM-DD)") do |text|
          @settings[:since] = Date.iso8601(text)
        rescue Date::Error
          raise UsageError, "--since must be a date like 2026-11-01, got #{text.inspect}"
        end
        opts.on("--format FORMAT", FORMATS, "table (default), csv or json") { |format| @settings[:format] = format }
      end

      def show(owner, package)
        history = HistoryAccess.open(@console)
        since = @settings[:since]
        observations = history.observations(owner: owner, package: package, since: since&.to_time&.utc)
        daily = history.daily_counts(owner: owner, package: package, since: since)
        summary = history.summary(owner: owner, package: package)
        @console.warn("nothing recorded for #{owner}/#{package} in #{history.location}") if observations.empty?
        write(owner, package, summary, observations, daily, history.versions(owner: owner, package: package))
        ExitCodes::OK
      ensure
        history&.close
      end

      def write(owner, package, summary, observations, daily, versions)
        case @settings[:format]
        when "json"
          @console.emit(summary.to_h.merge("observations" => observations.map(&:to_h),
                                           "last_30_days" => daily.map(&:to_h), "versions" => versions.map(&:to_h)))
        when "csv"
          @console.stdout.write("observed_at,last_seen_at,total_downloads\n")
          observations.each { |o| @console.stdout.write("#{o.observed_at.iso8601},#{o.last_seen_at.iso8601},#{o.total_downloads}\n") }
        else
          @console.stdout.write(HistoryTable.render("#{owner}/#{package}", summary, observations, daily))
        end
      end
    end
  end
end
