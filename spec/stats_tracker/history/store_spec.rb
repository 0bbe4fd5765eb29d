# frozen_string_literal: true

require "stats_tracker/history"

RSpec.describe StatsTracker::History do
  def stats(total, days: nil, first_day: Date.new(2026, 11, 1))
    bars = days&.each_with_index&.map { |count, i| StatsTracker::DailyCount.new(date: first_day + i, count: count) }
    StatsTracker::PackageStats.new(total_downloads: total, last_30_days: bars)
  end

  def version(tag, downloads)
    StatsTracker::VersionDownloads.new(tag: tag, downloads: downloads)
  end

  def row_counts(url)
    db = Sequel.connect(url, logger: nil)
    %i[packages observations daily_counts version_counts].to_h { |t| [t, db[t].count] }
  ensure
    db&.disconnect
  end

  t0 = Time.utc(2026, 12, 1, 12, 0, 0)

  StatsTracker::Testing::HistoryBackends::NAMES.each do |backend|
    context "on #{backend}" do
      around do |example|
        Dir.mktmpdir("history-spec-") do |dir|
          @dir = dir
          example.run
        end
      end

      let(:url) { StatsTracker::Testing::HistoryBackends.fresh_url(backend, @dir) }
      let(:store) { described_class.open(url: url, retention_days: nil) }

      after { @store_opened && store.close }

      def open_store
        @store_opened = true
        store
      end

      describe "migrations" do
        it "creates every table in an empty database, and opening again changes nothing" do
          open_store.close
          db = Sequel.connect(url, logger: nil)
          expect(db.tables).to include(:packages, :observations, :daily_counts, :version_counts, :schema_info)
          expect(db[:schema_info].get(:version)).to eq(1)
          db.disconnect

          described_class.open(url: url).close
          expect(row_counts(url).values.sum).to eq(0)
        end

        it "refuses a database written by a newer schema instead of migrating it down" do
          open_store.record(owner: "o", package: "p", stats: stats(5), at: t0)
          store.close
          db = Sequel.connect(url, logger: nil)
          db[:schema_info].update(version: 99)
          db.disconnect

          expect { described_class.open(url: url) }.to raise_error(StatsTracker::History::Error, /newer than this/)
          expect(row_counts(url)[:observations]).to eq(1)
        end
      end

      describe "#record" do
        it "backfills GitHub's 30 daily bars with the first observation" do
          open_store.record(owner: "fluxcd", package: "flux-cli", stats: stats(1000, days: (1..30).to_a), at: t0)

          bars = store.daily_counts(owner: "fluxcd", package: "flux-cli")
          expect(bars.size).to eq(30)
          expect(bars.first.to_h).to eq("date" => "2026-11-01", "count" => 1)
          expect(bars.last.to_h).to eq("date" => "2026-11-30", "count" => 30)
          expect(store.observations(owner: "fluxcd", package: "flux-cli").map(&:total_downloads)).to eq([1000])
        end

        it "adds no rows when the same page is recorded again, and moves last_seen_at" do
          page = stats(1000, days: (1..30).to_a)
          expect(open_store.record(owner: "o", package: "p", stats: page, versions: [version("v1", 9)], at: t0))
            .to eq(:added)
          before = row_counts(url)
          expect(store.record(owner: "o", package: "p", stats: page, versions: [version("v1", 9)], at: t0 + 60))
            .to eq(:unchanged)
          expect(store.record(owner: "o", package: "p", stats: page, at: t0)).to eq(:unchanged)

          expect(row_counts(url)).to eq(before)
          expect(store.observations(owner: "o", package: "p").map(&:to_h)).to eq(
            [{ "observed_at" => "2026-12-01T12:00:00Z", "last_seen_at" => "2026-12-01T12:01:00Z",
               "total_downloads" => 1000 }]
          )
        end

        it "adds an observation for a new total and updates a day GitHub revised" do
          open_store.record(owner: "o", package: "p", stats: stats(100, days: [1, 2, 3]), at: t0)
          store.record(owner: "o", package: "p", stats: stats(110, days: [2, 3, 9], first_day: Date.new(2026, 11, 2)),
                       at: t0 + 3600)

          expect(store.observations(owner: "o", package: "p").map(&:total_downloads)).to eq([100, 110])
          expect(store.daily_counts(owner: "o", package: "p").map(&:count)).to eq([1, 2, 3, 9])
        end

        it "reports the newest total when the previous one was last seen in the same second" do
          open_store.record(owner: "o", package: "p", stats: stats(1000), at: t0)
          store.record(owner: "o", package: "p", stats: stats(1000), at: t0 + 1)
          store.record(owner: "o", package: "p", stats: stats(1250), at: t0 + 1)

          expect(store.summary(owner: "o", package: "p").total_downloads).to eq(1250)
        end

        it "keeps per-version counts per observation and returns the latest, most downloaded first" do
          open_store.record(owner: "o", package: "p", stats: stats(10), versions: [version("v1", 10)], at: t0)
          store.record(owner: "o", package: "p", stats: stats(30),
                       versions: [version("v1", 12), version("v2", 18)], at: t0 + 60)

          expect(store.versions(owner: "o", package: "p").map(&:to_h))
            .to eq([{ "tag" => "v2", "downloads" => 18 }, { "tag" => "v1", "downloads" => 12 }])
          expect(row_counts(url)[:version_counts]).to eq(3)
        end

        it "stores totals beyond 32 bits exactly" do
          open_store.record(owner: "o", package: "p", stats: stats(4_123_456_789_012), at: t0)

          expect(store.summary(owner: "o", package: "p").total_downloads).to eq(4_123_456_789_012)
        end

        it "refuses a count beyond signed 64 bits with a typed error and stores nothing of that page" do
          open_store.record(owner: "o", package: "p", stats: stats(1), at: t0)

          expect { store.record(owner: "o", package: "p", stats: stats(2**63), at: t0 + 1) }
            .to raise_error(StatsTracker::History::Error, /larger than the history store keeps/)
          expect(store.observations(owner: "o", package: "p").map(&:total_downloads)).to eq([1])
        end

        it "keeps names with slashes, quotes and markup apart and intact" do
          names = ["charts/flagger", %(<script>alert("x")</script>), "o'brien"]
          names.each_with_index { |n, i| open_store.record(owner: "own", package: n, stats: stats(i + 1), at: t0) }

          expect(store.packages.map { |s| [s.name, s.total_downloads] })
            .to match_array(names.each_with_index.map { |n, i| [n, i + 1] })
        end
      end

      describe "retention" do
        it "prunes observations and daily bars older than retention_days on the next record" do
          kept = described_class.open(url: url, retention_days: 30)
          kept.record(owner: "o", package: "p", stats: stats(1, days: [5], first_day: Date.new(2026, 9, 1)), at: t0 - (90 * 86_400))
          kept.record(owner: "o", package: "p", stats: stats(2, days: [7], first_day: Date.new(2026, 11, 30)), at: t0)

          expect(kept.observations(owner: "o", package: "p").map(&:total_downloads)).to eq([2])
          expect(kept.daily_counts(owner: "o", package: "p").map(&:count)).to eq([7])
          kept.close
        end

        it "keeps everything with retention_days: nil" do
          open_store.record(owner: "o", package: "p", stats: stats(1), at: t0 - (3000 * 86_400))
          store.record(owner: "o", package: "p", stats: stats(2), at: t0)

          expect(store.observations(owner: "o", package: "p").size).to eq(2)
        end

        it "reads the retention from STATS_TRACKER_HISTORY_RETENTION_DAYS and rejects nonsense" do
          expect(described_class.retention_from("STATS_TRACKER_HISTORY_RETENTION_DAYS" => "14")).to eq(14)
          expect(described_class.retention_from("STATS_TRACKER_HISTORY_RETENTION_DAYS" => "forever")).to be_nil
          expect(described_class.retention_from({})).to eq(described_class::DEFAULT_RETENTION_DAYS)
          expect { described_class.retention_from("STATS_TRACKER_HISTORY_RETENTION_DAYS" => "-3") }
            .to raise_error(StatsTracker::History::ConfigurationError, /RETENTION_DAYS/)
        end
      end

      it "loses nothing when two processes record at once, starting from an empty database" do
        per_process = 25
        shared = url # one database for both writers, created before they fork
        pids = 2.times.map do |writer|
          fork do
            history = described_class.open(url: shared, retention_days: nil)
            per_process.times do |i|
              # Distinct totals at the same instants in both writers: every record is its own row.
              history.record(owner: "o", package: "p", stats: stats((writer * 1000) + i, days: [writer, i]),
                             versions: [version("w#{writer}", i)], at: t0 + i)
            end
            history.close
            exit!(0)
          rescue StandardError => e
            warn "writer #{writer}: #{e.class}: #{e.message}"
            exit!(1)
          end
        end
        statuses = pids.map { |pid| Process.wait2(pid).last }

        expect(statuses.map(&:exitstatus)).to eq([0, 0])
        expect(row_counts(url)).to include(packages: 1, observations: 2 * per_process, version_counts: 2 * per_process)
      end

      it "maps a malformed URL to ConfigurationError" do
        expect { described_class.open(url: "#{backend}://%zz") }.to raise_error(StatsTracker::History::ConfigurationError)
      end
    end
  end

  describe "on postgres, across a server restart" do
    let(:server) { StatsTracker::Testing::HistoryBackends.postgres }

    it "fails the writes while the server is down with UnavailableError, then carries on with nothing lost" do
      store = described_class.open(url: server.create_database, retention_days: nil)
      store.record(owner: "o", package: "p", stats: stats(1), at: t0)
      server.stop
      expect { store.record(owner: "o", package: "p", stats: stats(2), at: t0 + 60) }
        .to raise_error(StatsTracker::History::UnavailableError, /unavailable/)
      server.start
      store.record(owner: "o", package: "p", stats: stats(3), at: t0 + 120)

      expect(store.observations(owner: "o", package: "p").map(&:total_downloads)).to eq([1, 3])
      store.close
    end

    it "reconnects transparently when the server restarted between two writes" do
      store = described_class.open(url: server.create_database, retention_days: nil)
      store.record(owner: "o", package: "p", stats: stats(1), at: t0)
      server.restart
      store.record(owner: "o", package: "p", stats: stats(2), at: t0 + 60)

      expect(store.observations(owner: "o", package: "p").map(&:total_downloads)).to eq([1, 2])
      store.close
    end

    it "maps a server that is not there to UnavailableError" do
      Dir.mktmpdir do |empty|
        expect { described_class.open(url: "postgres:///x?host=#{empty}&user=postgres") }
          .to raise_error(StatsTracker::History::UnavailableError, /unavailable/)
      end
    end
  end

  it "maps an unknown scheme to ConfigurationError with a one-line message" do
    expect { described_class.open(url: "mysql://localhost/db") }
      .to raise_error(StatsTracker::History::ConfigurationError, %r{must start with sqlite:// or postgres://})
  end

  it "masks a password in every message" do
    expect { described_class.open(url: "postgres://me:s3cret@127.0.0.1:1/db") }
      .to raise_error(StatsTracker::History::UnavailableError) { |e| expect(e.message).not_to include("s3cret") }
  end
end
