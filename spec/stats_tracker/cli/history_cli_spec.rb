# frozen_string_literal: true

require "csv"
require "etc"
require "json"
require "open3"
require "rbconfig"
require "stats_tracker/history"

# `fetch --record`, `history` and the store's failures, through the installed command as a
# person runs it, against both databases.
RSpec.describe "stats-tracker fetch --record and history" do
  let(:exe) { File.expand_path("../../../exe/stats-tracker", __dir__) }
  let(:lib) { File.expand_path("../../../lib", __dir__) }

  around do |example|
    Dir.mktmpdir("history-cli-") do |dir|
      @dir = dir
      example.run
    end
  end

  let(:server) { StatsTracker::Testing::PageServer.new(fixtures_dir: GHCR_FIXTURES).start }

  after { server.stop }

  # unprivileged: run as `nobody` when we are root, since root writes through file modes.
  def run_cli(*args, env: {}, unprivileged: false)
    base = { "GITHUB_TOKEN" => nil, "XDG_DATA_HOME" => File.join(@dir, "data"), "STATS_TRACKER_DATABASE_URL" => nil }
    out, err, status = Open3.capture3(base.merge(env), *(unprivileged ? drop_root : []), RbConfig.ruby, "-I", lib, exe, *args)
    [out, err, status.exitstatus]
  end

  def drop_root
    return [] unless Process.uid.zero?

    nobody = Etc.getpwnam("nobody")
    ["setpriv", "--reuid=#{nobody.uid}", "--regid=#{nobody.gid}", "--clear-groups", "--"]
  end

  # A page with GitHub's 30 daily bars, from the project's own fixtures.
  def page_html(total)
    StatsTracker::Testing::PageServer.package_html(total: total, fixture: "package-flux-cli.html",
                                                   fixtures_dir: File.expand_path("../../fixtures/history", __dir__))
  end

  def serve_total(total)
    server.serve_package(owner: "fluxcd", package: "flux-cli", html: page_html(total))
  end

  def record(env, unprivileged: false)
    run_cli("fetch", "--base-url", server.base_url, "fluxcd/flux-cli", "--record", env: env, unprivileged: unprivileged)
  end

  it "records into SQLite under XDG_DATA_HOME when STATS_TRACKER_DATABASE_URL is unset" do
    serve_total(100)
    out, err, code = record({})

    expect([code, JSON.parse(out)["total_downloads"]]).to eq([0, 100])
    expect(err).to include("recorded fluxcd/flux-cli (new total)")
    expect(File).to exist(File.join(@dir, "data", "stats_tracker", "history.sqlite3"))
  end

  StatsTracker::Testing::HistoryBackends::NAMES.each do |backend|
    context "on #{backend}" do
      let(:env) { { "STATS_TRACKER_DATABASE_URL" => StatsTracker::Testing::HistoryBackends.fresh_url(backend, @dir) } }

      it "records two observations and the page's daily bars, then prints them as table, CSV and JSON" do
        serve_total(1_000)
        expect(record(env)[2]).to eq(0)
        expect(record(env)[1]).to include("total unchanged")
        serve_total(1_250)
        expect(record(env)[2]).to eq(0)

        table, _err, code = run_cli("history", "fluxcd/flux-cli", env: env)
        expect(code).to eq(0)
        expect(table).to match(%r{fluxcd/flux-cli: 1,250 downloads})
        expect(table).to match(/7 days [+]?[\d,]+\s+30 days [+]?[\d,]+/)
        expect(table).to match(/per day\s+[▁▂▃▄▅▆▇█]{30}/)
        expect(table.lines.grep(/\A  \d{4}-/).size).to eq(2)

        csv, = run_cli("history", "fluxcd/flux-cli", "--format", "csv", env: env)
        rows = CSV.parse(csv, headers: true)
        expect(rows.map { |r| r["total_downloads"].to_i }).to eq([1_000, 1_250])

        json, = run_cli("history", "fluxcd/flux-cli", "--format", "json", env: env)
        data = JSON.parse(json)
        parsed = StatsTracker::Parser.new.package(page_html(1_250))
        expect(data["observations"].map { |o| o["total_downloads"] }).to eq([1_000, 1_250])
        expect(data["last_30_days"]).to eq(parsed.last_30_days.map(&:to_h))
        expect(data["change_30d"]).to eq(parsed.last_30_days.sum(&:count))
      end

      it "filters with --since" do
        url = env["STATS_TRACKER_DATABASE_URL"]
        store = StatsTracker::History.open(url: url, retention_days: nil)
        store.record(owner: "o", package: "p", stats: StatsTracker::PackageStats.new(total_downloads: 1),
                     at: Time.utc(2026, 1, 1))
        store.record(owner: "o", package: "p", stats: StatsTracker::PackageStats.new(total_downloads: 2),
                     at: Time.utc(2026, 6, 1))
        store.close

        csv, _err, code = run_cli("history", "o/p", "--since", "2026-03-01", "--format", "csv", env: env)
        expect([code, csv.lines.size]).to eq([0, 2])
        expect(csv.lines.last).to eq("2026-06-01T00:00:00Z,2026-06-01T00:00:00Z,2\n")
      end

      it "records the versions too with --versions --record" do
        serve_total(500)
        server.serve_versions(owner: "fluxcd", package: "flux-cli", pages: ["versions-tagged-2023.html"])

        _out, err, code = run_cli("fetch", "--base-url", server.base_url, "fluxcd/flux-cli", "--versions", "--record", env: env)
        expect([code, err]).to match([0, /recorded/])

        json, = run_cli("history", "fluxcd/flux-cli", "--format", "json", env: env)
        want = StatsTracker::Parser.new.versions(File.binread(File.join(GHCR_FIXTURES, "versions-tagged-2023.html")))
        expect(JSON.parse(json)["versions"]).to match_array(want.map(&:to_h))
      end
    end
  end

  describe "store failures: one line, exit 6, nothing stored lost, nothing fetched" do
    it "rejects a malformed STATS_TRACKER_DATABASE_URL before fetching" do
      serve_total(1)
      out, err, code = record({ "STATS_TRACKER_DATABASE_URL" => "postgres://user:pw@[::1" })

      expect([code, out]).to eq([6, ""])
      expect(err.lines.size).to eq(1)
      expect(err).to match(/\Astats-tracker: STATS_TRACKER_DATABASE_URL is not a URL/)
      expect(err).not_to include(":pw@")
      expect(server.request_count).to eq(0)
    end

    it "reports an unreachable PostgreSQL server" do
      serve_total(1)
      out, err, code = record({ "STATS_TRACKER_DATABASE_URL" => "postgres:///nope?host=#{@dir}&user=postgres" })

      expect([code, out, err.lines.size]).to eq([6, "", 1])
      expect(err).to match(/unavailable/)
    end

    it "reports a read-only SQLite file and leaves what it holds intact" do
      path = File.join(@dir, "ro", "history.sqlite3")
      FileUtils.mkdir_p(File.dirname(path))
      url = "sqlite://#{path}"
      store = StatsTracker::History.open(url: url)
      store.record(owner: "fluxcd", package: "flux-cli", stats: StatsTracker::PackageStats.new(total_downloads: 7),
                   at: Time.utc(2026, 1, 1))
      store.close
      File.chmod(0o444, path)
      File.chmod(0o555, File.dirname(path))
      serve_total(9)

      cache = File.join(@dir, "module-cache") # the parser's compiled-module cache, writable by the caller
      FileUtils.mkdir_p(cache)
      FileUtils.chown(Etc.getpwnam("nobody").uid, nil, cache) if Process.uid.zero?
      File.chmod(0o755, @dir)
      out, err, code = record({ "STATS_TRACKER_DATABASE_URL" => url, "STATS_TRACKER_CACHE_DIR" => cache },
                              unprivileged: true)

      expect([code, out, err.lines.size]).to eq([6, "", 1])
      expect(err).to match(/read-only/)
      File.chmod(0o755, File.dirname(path))
      reopened = StatsTracker::History.open(url: url)
      expect(reopened.observations(owner: "fluxcd", package: "flux-cli").map(&:total_downloads)).to eq([7])
      reopened.close
    end
  end
end
