# frozen_string_literal: true

module StatsTracker
  class History
    # Records observations. Every write of one package happens in one transaction that holds
    # that package's lock (the row lock on PostgreSQL, the database write lock on SQLite), so
    # concurrent writers queue instead of overwriting each other, and every row is an upsert,
    # so recording the same page again changes nothing.
    class Writer
      def initialize(db)
        @db = db
      end

      # Returns :added when a new total was stored, :unchanged when an existing total was
      # seen again (its last_seen_at moves forward).
      # Counts live in signed 64-bit columns on both databases; the parser reads up to u64.
      MAX_COUNT = (2**63) - 1

      def record(owner:, package:, stats:, versions:, at:)
        check_range(stats, versions)
        seconds = at.to_i
        result = nil
        @db.transaction(**transaction_options) do
          package_id = lock_package(owner, package, seconds)
          observation_id, result = observe(package_id, stats.total_downloads, seconds)
          store_daily(package_id, stats.last_30_days || [])
          store_versions(observation_id, versions) if versions
        end
        result
      end

      # Deletes observations last seen before cutoff (their version counts go with them) and
      # daily bars before its day.
      def prune(cutoff)
        @db.transaction(**transaction_options) do
          @db[:observations].where { last_seen_at < cutoff.to_i }.delete
          @db[:daily_counts].where { day < cutoff.utc.to_date }.delete
        end
      end

      private

      def check_range(stats, versions)
        counts = [stats.total_downloads] + (stats.last_30_days || []).map(&:count) + (versions || []).map(&:downloads)
        too_big = counts.find { |count| count > MAX_COUNT }
        raise History::Error, "count #{too_big} is larger than the history store keeps (#{MAX_COUNT})" if too_big
      end

      def postgres?
        @db.database_type == :postgres
      end

      # SQLite upgrades a read lock to a write lock late and fails with BUSY when two writers
      # do so together; taking the write lock up front makes the second writer wait instead.
      def transaction_options
        postgres? ? {} : { mode: :immediate }
      end

      def lock_package(owner, name, seconds)
        packages = @db[:packages]
        packages.insert_conflict(target: %i[owner name]).insert(owner: owner, name: name, first_seen_at: seconds)
        row = packages.where(owner: owner, name: name)
        (postgres? ? row.for_update : row).get(:id)
      end

      def observe(package_id, total, seconds)
        observations = @db[:observations].where(package_id: package_id)
        latest = observations.where { observed_at <= seconds }.reverse(:observed_at, :id).first
        if latest && latest[:total_downloads] == total
          observations.where(id: latest[:id]).update(last_seen_at: [latest[:last_seen_at], seconds].max)
          return [latest[:id], :unchanged]
        end

        id = @db[:observations].insert(package_id: package_id, observed_at: seconds, last_seen_at: seconds,
                                       total_downloads: total)
        [id, :added]
      end

      def store_daily(package_id, days)
        daily = @db[:daily_counts].insert_conflict(target: %i[package_id day], update: { downloads: Sequel[:excluded][:downloads] })
        days.each { |d| daily.insert(package_id: package_id, day: d.date, downloads: d.count) }
      end

      def store_versions(observation_id, versions)
        rows = @db[:version_counts].insert_conflict(target: %i[observation_id tag],
                                                    update: { downloads: Sequel[:excluded][:downloads] })
        versions.each { |v| rows.insert(observation_id: observation_id, tag: v.tag, downloads: v.downloads) }
      end
    end
  end
end
