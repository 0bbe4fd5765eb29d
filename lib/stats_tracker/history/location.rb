# frozen_string_literal: true

require "fileutils"
require "uri"
require_relative "errors"

module StatsTracker
  class History
    # Where the store lives: STATS_TRACKER_DATABASE_URL when set, otherwise an embedded SQLite
    # file under the XDG data directory, so a first `fetch --record` needs no set-up.
    module Location
      ENV_VAR = "STATS_TRACKER_DATABASE_URL"
      SCHEMES = %w[sqlite postgres postgresql].freeze

      module_function

      def url(env: ENV)
        given = env[ENV_VAR]
        return default_sqlite_url(env) if given.nil? || given.strip.empty?

        check(given.strip)
      end

      def default_sqlite_url(env)
        base = env["XDG_DATA_HOME"]
        base = File.join(env.fetch("HOME") { Dir.home }, ".local", "share") if base.nil? || base.empty?
        dir = File.join(base, "stats_tracker")
        FileUtils.mkdir_p(dir, mode: 0o700)
        "sqlite://#{File.join(dir, 'history.sqlite3')}"
      rescue SystemCallError => e
        raise UnavailableError, "cannot create the history directory #{dir}: #{e.message}"
      end

      # Sequel accepts many adapters; only the two the store is tested against are allowed,
      # and the URL is checked here so a typo gives one line rather than an adapter's trace.
      def check(url)
        scheme = URI.parse(url).scheme
        unless SCHEMES.include?(scheme)
          raise ConfigurationError,
                "#{ENV_VAR} must start with sqlite:// or postgres://, got #{redact(url).inspect}"
        end
        url
      rescue URI::InvalidURIError
        raise ConfigurationError, "#{ENV_VAR} is not a URL: #{redact(url).inspect}"
      end

      # Never print a password into a log or terminal.
      def redact(url)
        url.to_s.sub(%r{(//[^:/@]*:)[^@/]*@}, '\1***@')
      end
    end
  end
end
