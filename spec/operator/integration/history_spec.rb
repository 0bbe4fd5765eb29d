# frozen_string_literal: true

require "json"
require "net/http"
require "stats_tracker/history"
require_relative "../support/operator_harness"

# The operator with STATS_TRACKER_DATABASE_URL and UI_ADDR: every Leaf's observation lands in
# the store, and the operator's own dashboard port serves it.
RSpec.describe "operator recording history", kube: true do
  include StatsTracker::Testing::OperatorHarness

  let(:pages) { StatsTracker::Testing::PageServer.new.start }

  before { install_crds }

  after do
    stop_operators
    pages.stop
  end

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
end
