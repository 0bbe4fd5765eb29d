# frozen_string_literal: true

require_relative "../error"

module StatsTracker
  class History
    # Root of the store's failures. Each carries one line a person can act on; nothing the
    # store already holds is touched when one is raised.
    class Error < StatsTracker::Error; end

    # STATS_TRACKER_DATABASE_URL (or url:) is malformed or names a database we cannot speak.
    class ConfigurationError < Error; end

    # The database cannot be reached, or the connection broke during the call.
    class UnavailableError < Error; end

    # The database accepts reads but refuses writes (a read-only SQLite file or directory,
    # a read-only PostgreSQL transaction or replica).
    class ReadOnlyError < Error; end
  end
end
