# frozen_string_literal: true

require "json"
require "net/http"
require "stats_tracker/history"
require_relative "../support/operator_harness"

# The operator with STATS_TRACKER_DATABASE_URL and UI_ADDR: every Leaf's observation lands in
# the store, and the operator's own dashboard port serves it.
RSpec.describe "operator recording history", kube: true do
  include_context "an operator against the API server"

  StatsTracker::Testing::HistoryBackends::NAMES.each do |backend|
    it "records each Leaf's count in #{backend} and serves it on UI_ADDR" do
      Dir.mktmpdir("operator-history-") do |dir|
        url = StatsTracker::Testing::HistoryBackends.fresh_url(backend, dir)
        counts = serve_fluxcd(pages)
        ui = free_port
        start_operator(pages, history_url: url, ui_addr: "127.0.0.1:#{ui}")
        apply_project("fluxcd", include: ["flagger*"])
        wait_project_ready("fluxcd", packages: 3)

        store = StatsTracker::History.open(url: url)
        wanted = counts.select { |name, _| name.start_with?("flagger") }
        wait_for("the three observations in the store") do
          store.packages.to_h { |s| [s.name, s.total_downloads] } == wanted
        end
        expect(store.daily_counts(owner: "fluxcd", package: "flagger").size).to eq(30)
        store.close

        index = JSON.parse(Net::HTTP.get(URI("http://127.0.0.1:#{ui}/api/packages")))
        expect(index.to_h { |p| [p["package"], p["total_downloads"]] }).to eq(wanted)
      end
    end
  end

  # The database goes away mid-run (the PostgreSQL server is stopped, cutting open sessions):
  # Leafs keep reading and writing their counts, the failed writes show as metrics (the
  # StatsTrackerHistoryWritesBehind alert's input), and everything read meanwhile, every
  # version tag included, is written once the server is back.
  it "keeps Leaf statuses current while the database is down, and writes the backlog when it is back" do
    server = StatsTracker::Testing::HistoryBackends.postgres
    url = server.create_database
    counts = serve_fluxcd(pages)
    pages.serve_versions(owner: "fluxcd", package: "flagger", pages: %w[versions-tagged-2023.html])
    port = free_port
    start_operator(pages, history_url: url, metrics_bind: "127.0.0.1", metrics_port: port)
    apply_project("fluxcd", include: ["flagger*"], versions: { limit: 1 })
    wait_project_ready("fluxcd", packages: 3)
    store = StatsTracker::History.open(url: url)
    wait_for("the first observations stored") { store.packages.size == 3 }
    store.close

    server.stop
    begin
      serve_count(pages, "flagger", counts.fetch("flagger") + 500)
      request_reconcile("leaves", "fluxcd-flagger")
      wait_for("the new count in the Leaf status while the database is down") do
        flagger = leaf("fluxcd-flagger")
        flagger.dig(:status, :downloadCount) == counts.fetch("flagger") + 500 && ready?(flagger)
      end
      wait_for("a failed write and a backlog in the metrics") do
        text = metrics_text(port)
        metric_value(text, "stats_tracker_history_writes_total", result: "error").positive? &&
          metric_value(text, "stats_tracker_history_pending_observations").positive?
      end
      expect(condition(leaf("fluxcd-flagger"), "VersionsRead")).to include(status: "True")
    ensure
      server.start
    end

    store = StatsTracker::History.open(url: url)
    wait_for("the backlog written") do
      store.observations(owner: "fluxcd", package: "flagger").map(&:total_downloads).last == counts.fetch("flagger") + 500
    end
    wait_for("nothing pending") { metric_value(metrics_text(port), "stats_tracker_history_pending_observations").zero? }
    expect(store.versions(owner: "fluxcd", package: "flagger").size).to eq(14)
    store.close
  end
end
