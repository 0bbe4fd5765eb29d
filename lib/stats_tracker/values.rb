# frozen_string_literal: true

require "date"

module StatsTracker
  # Immutable results of the parser. Each is a keyword Struct frozen at birth:
  # == and #hash come from Struct, #to_h gives the JSON-ready shape of
  # spec/fixtures/ghcr/expected.json (String keys, ISO dates).

  # Downloads on one day of the 30-day chart.
  # `count` is the public name of the field and shadows Struct#count, which a DailyCount never needs.
  DailyCount = Struct.new(:date, :count, keyword_init: true) do # rubocop:disable Lint/StructNewOverride
    def initialize(date:, count:)
      super(date: date.is_a?(Date) ? date : Date.iso8601(date), count: Integer(count))
      freeze
    end

    def to_h
      { "date" => date.iso8601, "count" => count }
    end
  end

  # A package page: total downloads, optional 30-day chart (ascending), optional
  # "Last published" timestamp exactly as the page gives it.
  PackageStats = Struct.new(:total_downloads, :last_30_days, :last_published, keyword_init: true) do
    def initialize(total_downloads:, last_30_days: nil, last_published: nil)
      super(total_downloads: Integer(total_downloads), last_30_days: last_30_days&.dup&.freeze,
            last_published: last_published&.dup&.freeze)
      freeze
    end

    def to_h
      { "kind" => "package", "total_downloads" => total_downloads,
        "last_30_days" => last_30_days&.map(&:to_h), "last_published" => last_published }
    end
  end

  # One tagged version row of a package's versions page.
  VersionDownloads = Struct.new(:tag, :downloads, keyword_init: true) do
    def initialize(tag:, downloads:)
      super(tag: tag.dup.freeze, downloads: Integer(downloads))
      freeze
    end

    def to_h
      { "tag" => tag, "downloads" => downloads }
    end
  end

  # One package of an owner's package listing; repository is "owner/repo" or nil.
  ListedPackage = Struct.new(:name, :repository, keyword_init: true) do
    def initialize(name:, repository: nil)
      super(name: name.dup.freeze, repository: repository&.dup&.freeze)
      freeze
    end

    def to_h
      { "name" => name, "repository" => repository }
    end
  end

  # A page of an owner's package listing and the number of the next page, if any.
  Listing = Struct.new(:packages, :next_page, keyword_init: true) do
    def initialize(packages:, next_page: nil)
      super(packages: packages.dup.freeze, next_page: next_page)
      freeze
    end

    def to_h
      { "kind" => "listing", "packages" => packages.map(&:to_h), "next_page" => next_page }
    end
  end
end
