# frozen_string_literal: true

require "sequel"
require_relative "translation"

module StatsTracker
  class History
    # Opens the database behind a URL and brings its schema up to date with the versioned
    # migrations in migrations/. A database whose schema is newer than this code is refused
    # rather than written to.
    module Connection
      MIGRATIONS = File.expand_path("migrations", __dir__)
      # SQLite serialises writers with a file lock; a writer waits this long for another
      # process' transaction instead of failing at once.
      SQLITE_BUSY_TIMEOUT_MS = 30_000
      PG_CONNECT_TIMEOUT_S = 5
      # Any fixed number: names the advisory lock every stats_tracker process migrates under.
      MIGRATION_LOCK = 0x5354_4854

      Sequel.extension :migration

      module_function

      def latest_version
        Dir[File.join(MIGRATIONS, "*.rb")].map { |path| File.basename(path).to_i }.max
      end

      def open(url)
        Translation.guard(url) do
          db = Sequel.connect(url, **options(url))
          begin
            setup(db)
          rescue StandardError
            db.disconnect
            raise
          end
          db
        end
      end

      def options(url)
        common = { test: true, max_connections: 4, logger: nil }
        return common.merge(timeout: SQLITE_BUSY_TIMEOUT_MS) if url.start_with?("sqlite:")

        common.merge(connect_timeout: PG_CONNECT_TIMEOUT_S)
      end

      def setup(db)
        # A server restart breaks every pooled connection; validating on checkout replaces a
        # dead one instead of failing the next write.
        db.extension(:connection_validator)
        db.pool.connection_validation_timeout = -1
        migrate(db)
      end

      def migrate(db)
        # The common case reads only, so a read-only database with a current schema opens.
        return if version(db) == latest_version

        # Two processes opening an empty database must not both create the schema: the
        # migration runs under the database's write lock (SQLite) or an advisory lock
        # (PostgreSQL), and the version is checked again once the lock is held.
        postgres = db.database_type == :postgres
        db.transaction(**(postgres ? {} : { mode: :immediate })) do
          db.get(Sequel.function(:pg_advisory_xact_lock, MIGRATION_LOCK)) if postgres
          current = version(db)
          next if current == latest_version

          # Never migrate down: that would drop what a newer version stored.
          if current > latest_version
            raise History::Error, "history database schema version #{current} is newer than this " \
                                  "stats_tracker (#{latest_version}); upgrade stats_tracker"
          end

          Sequel::Migrator.run(db, MIGRATIONS)
        end
      rescue Sequel::Migrator::Error => e
        raise History::Error, "history database schema: #{e.message}"
      end

      def version(db)
        db.table_exists?(:schema_info) ? db[:schema_info].get(:version).to_i : 0
      end
    end
  end
end
