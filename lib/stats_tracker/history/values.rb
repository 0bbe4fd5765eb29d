# frozen_string_literal: true

require_relative "../values"

module StatsTracker
  class History
    # One distinct total of a package: first seen at observed_at, still the total at
    # last_seen_at (both Time, UTC).
    Observation = Struct.new(:observed_at, :last_seen_at, :total_downloads, keyword_init: true) do
      def initialize(observed_at:, last_seen_at:, total_downloads:)
        super(observed_at: observed_at.utc, last_seen_at: last_seen_at.utc, total_downloads: Integer(total_downloads))
        freeze
      end

      def to_h
        { "observed_at" => observed_at.iso8601, "last_seen_at" => last_seen_at.iso8601,
          "total_downloads" => total_downloads }
      end
    end

    # What the index shows for one package. change_7d / change_30d are nil when the store
    # cannot say (no daily bars and no observation that old).
    PackageSummary = Struct.new(:owner, :name, :total_downloads, :last_seen_at, :daily, :change_7d, :change_30d,
                                keyword_init: true) do
      def initialize(owner:, name:, total_downloads:, last_seen_at:, daily:, change_7d:, change_30d:)
        super(owner: owner.dup.freeze, name: name.dup.freeze, total_downloads: total_downloads,
              last_seen_at: last_seen_at, daily: daily.dup.freeze, change_7d: change_7d, change_30d: change_30d)
        freeze
      end

      def to_h
        { "owner" => owner, "package" => name, "total_downloads" => total_downloads,
          "last_seen_at" => last_seen_at&.iso8601, "change_7d" => change_7d, "change_30d" => change_30d,
          "last_30_days" => daily.map(&:to_h) }
      end
    end
  end
end
