# frozen_string_literal: true

require "json"
require "net/http"
require "stats_tracker/dashboard"

# The dashboard's JSON endpoints and its read-only HTTP surface, over a real socket, on both
# databases.
RSpec.describe StatsTracker::Dashboard::Server do
  t0 = Time.utc(2026, 12, 1, 12)

  StatsTracker::Testing::HistoryBackends::NAMES.each do |backend|
    context "on #{backend}" do
      around do |example|
        Dir.mktmpdir("dashboard-server-") do |dir|
          @store = StatsTracker::History.open(url: StatsTracker::Testing::HistoryBackends.fresh_url(backend, dir),
                                              retention_days: nil)
          @server = described_class.new(history: @store, listen: "127.0.0.1:0").start
          example.run
        ensure
          @server&.stop
          @store&.close
        end
      end

      def get(path, method: Net::HTTP::Get)
        uri = URI.join(@server.url, path)
        Net::HTTP.start(uri.host, uri.port) { |http| http.request(method.new(uri)) }
      end

      def record(package, total, at)
        bars = [StatsTracker::DailyCount.new(date: Date.new(2026, 11, 30), count: 5)]
        @store.record(owner: "fluxcd", package: package, stats: StatsTracker::PackageStats.new(total_downloads: total, last_30_days: bars),
                      versions: [StatsTracker::VersionDownloads.new(tag: "v1", downloads: total)], at: at)
      end

      it "serves the index and one package as JSON, a package name with a slash included" do
        record("charts/flagger", 10, t0)
        record("charts/flagger", 12, t0 + 60)
        record("flux-cli", 9_000_000_000_000, t0)

        index = JSON.parse(get("/api/packages").body)
        expect(index.map { |p| [p["package"], p["total_downloads"]] }).to eq([["charts/flagger", 12], ["flux-cli", 9_000_000_000_000]])

        response = get("/api/packages/fluxcd/charts%2Fflagger")
        expect(response["Content-Type"]).to eq("application/json")
        body = JSON.parse(response.body)
        expect(body["observations"].map { |o| o["total_downloads"] }).to eq([10, 12])
        expect(body["versions"]).to eq([{ "tag" => "v1", "downloads" => 12 }])
        expect(body["last_30_days"]).to eq([{ "date" => "2026-11-30", "count" => 5 }])
      end

      it "answers 404 for an unknown package or path, 405 for writes, and HEAD without a body" do
        expect(get("/api/packages/nobody/nothing").code).to eq("404")
        expect(get("/packages/only-one-segment").code).to eq("404")
        expect(get("/packages/a/b/c").code).to eq("404")
        expect(get("/nothing-here").code).to eq("404")
        expect(get("/", method: Net::HTTP::Post).code).to eq("405")
        expect(get("/", method: Net::HTTP::Delete).code).to eq("405")
        head = get("/", method: Net::HTTP::Head)
        expect([head.code, head.body.to_s]).to eq(["200", ""])
        expect(get("/")["Content-Security-Policy"]).to include("default-src 'none'")
      end
    end
  end

  it "rejects a listen address that is not HOST:PORT" do
    expect { described_class.parse_listen("9292") }.to raise_error(ArgumentError, /HOST:PORT/)
    expect(described_class.parse_listen("[::1]:0")).to eq(["::1", 0])
  end
end
