# frozen_string_literal: true

require "securerandom"
require "stringio"
require "stats_tracker/history"
require "stats_tracker/operator/log"
require "stats_tracker/operator/controller/metrics"
require "stats_tracker/operator/history_recorder"

# The operator's seam to the history store, against a real PostgreSQL server that goes away
# and comes back: observe never blocks or raises, failures show as metrics, and every
# observation queued during the outage is written once the server is back.
RSpec.describe StatsTracker::Operator::HistoryRecorder do
  let(:server) { StatsTracker::Testing::HistoryBackends.postgres }
  let(:url) { server.create_database }
  let(:metrics) { StatsTracker::Operator::Controller::Metrics.new.tap { |m| described_class.register_metrics(m) } }
  let(:log) { StringIO.new }
  let(:recorder) do
    described_class.new(open: -> { StatsTracker::History.open(url: url, retention_days: nil) }, metrics: metrics,
                        logger: StatsTracker::Operator::Log.new(io: log), retry_base: 0.05, retry_cap: 0.2)
  end

  after { recorder.stop }

  def leaf(package)
    { spec: { owner: "fluxcd", package: package } }
  end

  def stats(total)
    StatsTracker::PackageStats.new(total_downloads: total)
  end

  # Polls for a condition with a generous bound: the machine is shared and loaded.
  def eventually(what, seconds: 60)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
    until yield
      raise "not within #{seconds} s: #{what}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.05
    end
  end

  def stored(package)
    store = StatsTracker::History.open(url: url)
    store.observations(owner: "fluxcd", package: package).map(&:total_downloads)
  ensure
    store&.close
  end

  it "writes each observation in order" do
    t0 = Time.utc(2026, 12, 1)
    3.times { |i| recorder.observe(leaf("flux-cli"), stats(10 + i), t0 + i) }

    eventually("all written") { recorder.pending.zero? }
    expect(stored("flux-cli")).to eq([10, 11, 12])
    expect(metrics.value(described_class::WRITES, result: "ok")).to eq(3)
    expect(metrics.value(described_class::LAST_WRITE)).to be > 0
  end

  it "keeps observing while the database is down, counts the failures, and writes the backlog when it is back" do
    url # the database exists before the outage
    t0 = Time.utc(2026, 12, 1)
    recorder.observe(leaf("a"), stats(1), t0)
    eventually("first write") { recorder.pending.zero? }

    server.stop
    begin
      4.times { |i| expect(recorder.observe(leaf("a"), stats(2 + i), t0 + 60 + i)).to be_nil }
      eventually("a failed write") { metrics.value(described_class::WRITES, result: "error").to_i >= 1 }
      expect(recorder.pending).to be >= 1
      expect(metrics.value(described_class::PENDING)).to be >= 1
    ensure
      server.start
    end

    eventually("backlog written") { recorder.pending.zero? }
    expect(stored("a")).to eq([1, 2, 3, 4, 5])
    expect(log.string).to include("history write failed; will retry")
  end

  # PostgreSQL cannot index a tag of several kilobytes (the parser reads whatever a page says):
  # that observation can never be written, and retrying it forever would hold back every later one.
  it "gives up on an observation the store refuses for what it holds, and writes the ones behind it" do
    t0 = Time.utc(2026, 12, 1)
    long = [StatsTracker::VersionDownloads.new(tag: "v#{SecureRandom.alphanumeric(10_000)}", downloads: 1)]
    recorder.observe(leaf("a"), stats(1), t0, versions: long)
    recorder.observe(leaf("a"), stats(2), t0 + 60)

    eventually("the later observation written") { stored("a") == [2] }
    expect(metrics.value(described_class::WRITES, result: "rejected")).to eq(1)
    expect(metrics.value(described_class::WRITES, result: "error")).to eq(described_class::ATTEMPTS - 1)
    expect(log.string).to include("history observation refused; dropped").and include("ProgramLimitExceeded")
  end
end
