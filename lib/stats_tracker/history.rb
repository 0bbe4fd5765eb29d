# frozen_string_literal: true

require_relative "history/errors"
require_relative "history/location"
require_relative "history/translation"
require_relative "history/connection"
require_relative "history/values"
require_relative "history/writer"
require_relative "history/reader"
require_relative "history/trend"

module StatsTracker
  # The durable download history: every observed total of every package, GitHub's daily bars
  # and per-version counts, in SQLite (embedded default) or PostgreSQL, chosen by
  # STATS_TRACKER_DATABASE_URL. Every failure is a History::Error subclass with one line.
  class History
    RETENTION_ENV = "STATS_TRACKER_HISTORY_RETENTION_DAYS"
    DEFAULT_RETENTION_DAYS = 730

    # url: nil reads STATS_TRACKER_DATABASE_URL, falling back to the embedded SQLite file.
    # retention_days: nil keeps everything; otherwise older rows are pruned on every record.
    def self.open(url: nil, env: ENV, retention_days: retention_from(env))
      url ||= Location.url(env: env)
      url = Location.check(url)
      new(Connection.open(url), url: url, retention_days: retention_days)
    end

    # STATS_TRACKER_HISTORY_RETENTION_DAYS: a whole number of days, or "forever".
    def self.retention_from(env)
      text = env[RETENTION_ENV].to_s.strip
      return DEFAULT_RETENTION_DAYS if text.empty?
      return nil if text == "forever"

      days = Integer(text, 10)
      raise ArgumentError unless days.positive?

      days
    rescue ArgumentError
      raise ConfigurationError, "#{RETENTION_ENV} must be a number of days >= 1 or \"forever\", got #{text.inspect}"
    end

    attr_reader :retention_days

    def initialize(db, url:, retention_days: DEFAULT_RETENTION_DAYS)
      @db = db
      @url = url
      @retention_days = retention_days
      @writer = Writer.new(db)
      @reader = Reader.new(db)
    end

    # The URL with any password masked, for messages.
    def location
      Location.redact(@url)
    end

    # Stores one observation of a package (a PackageStats from the parser, and optionally the
    # VersionDownloads of its versions pages) seen at `at`. Returns :added or :unchanged.
    def record(owner:, package:, stats:, versions: nil, at: Time.now)
      guard do
        result = @writer.record(owner: owner, package: package, stats: stats, versions: versions, at: at)
        @writer.prune(at - (retention_days * Trend::DAY)) if retention_days
        result
      end
    end

    def packages
      guard { @reader.package_names.map { |owner, name| summary(owner: owner, package: name) } }
    end

    def summary(owner:, package:, now: Time.now)
      guard do
        observations = @reader.observations(owner: owner, package: package)
        daily = @reader.daily_counts(owner: owner, package: package)
        # Ordered as the writer orders them (observed_at, then insertion): last_seen_at has a
        # resolution of one second, so the previous total can tie with the newest one.
        latest = observations.last
        PackageSummary.new(owner: owner, name: package, total_downloads: latest&.total_downloads,
                           last_seen_at: latest&.last_seen_at, daily: daily.last(30),
                           change_7d: Trend.change(observations: observations, daily: daily, days: 7, now: now),
                           change_30d: Trend.change(observations: observations, daily: daily, days: 30, now: now))
      end
    end

    def observations(owner:, package:, since: nil)
      guard { @reader.observations(owner: owner, package: package, since: since) }
    end

    def daily_counts(owner:, package:, since: nil)
      guard { @reader.daily_counts(owner: owner, package: package, since: since) }
    end

    def versions(owner:, package:)
      guard { @reader.versions(owner: owner, package: package) }
    end

    def close
      @db.disconnect
    end

    def inspect
      "#<#{self.class.name} #{location} retention_days=#{retention_days.inspect}>"
    end

    private

    def guard(&)
      Translation.guard(@url, &)
    end
  end
end
