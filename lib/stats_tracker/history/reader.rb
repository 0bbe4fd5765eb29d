# frozen_string_literal: true

require_relative "values"

module StatsTracker
  class History
    # Reads the store back as value objects; never writes.
    class Reader
      def initialize(db)
        @db = db
      end

      # [[owner, name], ...] in name order.
      def package_names
        @db[:packages].order(:owner, :name).select_map(%i[owner name])
      end

      def observations(owner:, package:, since: nil)
        id = package_id(owner, package)
        return [] unless id

        rows = @db[:observations].where(package_id: id)
        rows = rows.where { last_seen_at >= since.to_i } if since
        rows.order(:observed_at, :id).all.map do |row|
          Observation.new(observed_at: Time.at(row[:observed_at]), last_seen_at: Time.at(row[:last_seen_at]),
                          total_downloads: row[:total_downloads])
        end
      end

      def daily_counts(owner:, package:, since: nil)
        id = package_id(owner, package)
        return [] unless id

        rows = @db[:daily_counts].where(package_id: id)
        rows = rows.where { day >= since.to_date } if since
        rows.order(:day).all.map { |row| DailyCount.new(date: to_date(row[:day]), count: row[:downloads]) }
      end

      # Per-tag counts of the latest observation that has any, most downloaded first.
      def versions(owner:, package:)
        id = package_id(owner, package)
        return [] unless id

        latest = @db[:observations].where(package_id: id)
                                   .where(id: @db[:version_counts].select(:observation_id))
                                   .reverse(:observed_at).get(:id)
        return [] unless latest

        @db[:version_counts].where(observation_id: latest).order(Sequel.desc(:downloads), :tag).all.map do |row|
          VersionDownloads.new(tag: row[:tag], downloads: row[:downloads])
        end
      end

      private

      def package_id(owner, name)
        @db[:packages].where(owner: owner, name: name).get(:id)
      end

      # SQLite hands dates back as strings.
      def to_date(value)
        value.is_a?(Date) ? value : Date.iso8601(value.to_s)
      end
    end
  end
end
