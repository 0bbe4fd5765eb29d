# frozen_string_literal: true

require "json"
require "stats_tracker/history"
require_relative "../support/operator_harness"

# spec.versions end to end: a Project passes it to its Leafs, the API server applies the
# schema's defaults and bounds, the operator reads the versions pages from the local page server,
# the top tags land in the Leaf status and in `kubectl get leaves`, and every tag in the store.
RSpec.describe "operator per-version counts", kube: true do
  include StatsTracker::Testing::OperatorHarness

  let(:pages) { StatsTracker::Testing::PageServer.new.start }
  let(:fixture_pages) { %w[versions-tagged-2023.html versions-tagged-page2.html] }
  let(:all_tags) do
    expected = JSON.parse(File.read(File.join(GHCR_FIXTURES, "expected.json")))
    fixture_pages.flat_map { |name| expected.fetch(name).fetch("versions") }
  end

  before { install_crds }

  after do
    stop_operators
    pages.stop
  end

  def leaf_body(name, versions)
    { apiVersion: "#{StatsTracker::Testing::OperatorHarness::GROUP}/v1alpha1", kind: "Leaf",
      metadata: { name: name, namespace: namespace },
      spec: { owner: "fluxcd", package: "flagger", versions: versions } }
  end

  it "bounds limit and maxPages, and defaults both" do
    [{ limit: 0 }, { limit: 21 }, { maxPages: 0 }, { maxPages: 11 }].each do |bad|
      expect { api_for("leaves").apply(leaf_body("bad-versions", bad)) }.to raise_error(Kubeclient::HttpError, /versions/)
      expect { apply_project("bad-versions", versions: bad) }.to raise_error(Kubeclient::HttpError, /versions/)
    end
    expect(api_for("leaves").apply(leaf_body("default-versions", {})).dig(:spec, :versions)).to eq(limit: 5, maxPages: 3)
  end

  it "passes the Project's versions to its Leafs, shows the top tag and stores every tag" do
    Dir.mktmpdir("operator-versions-") do |dir|
      url = "sqlite://#{File.join(dir, 'history.sqlite3')}"
      serve_fluxcd(pages)
      pages.serve_versions(owner: "fluxcd", package: "flagger", pages: fixture_pages)
      start_operator(pages, history_url: url)
      apply_project("fluxcd", include: ["flagger"], versions: { limit: 2 })
      wait_project_ready("fluxcd", packages: 1)

      flagger = wait_for("the top tags in the Leaf status") do
        found = leaf("fluxcd-flagger")
        found if found.dig(:status, :versions)
      end
      expect(flagger.dig(:spec, :versions)).to eq(limit: 2, maxPages: 3)
      expect(flagger.dig(:status, :versions, :top)).to eq([{ tag: "v1.0.0-rc.1", downloads: 419_002 },
                                                           { tag: "rc", downloads: 419_002 }])
      expect(flagger.dig(:status, :versions)).to include(pages: 2, tags: all_tags.size)
      expect(condition(flagger, "VersionsRead")).to include(status: "True", reason: "Succeeded")

      header, *rows = kubectl!("get", "leaves", "-n", namespace).lines.map(&:split)
      expect(header).to eq(%w[NAME READY DOWNLOADS TOP TAG LAST UPDATE AGE])
      expect(rows.find { |r| r.first == "fluxcd-flagger" }[3]).to eq("v1.0.0-rc.1")

      store = StatsTracker::History.open(url: url)
      wait_for("every tag in the store") { store.versions(owner: "fluxcd", package: "flagger").size == all_tags.size }
      expect(store.versions(owner: "fluxcd", package: "flagger").to_h { |v| [v.tag, v.downloads] })
        .to eq(all_tags.to_h { |t| [t["tag"], t["downloads"]] })
      store.close
    end
  end

  it "keeps the count Ready when the versions pages fail, and says so in VersionsRead" do
    counts = serve_fluxcd(pages)
    start_operator(pages)
    apply_project("fluxcd", include: ["flagger"], versions: { limit: 2 })
    wait_project_ready("fluxcd", packages: 1)

    flagger = leaf("fluxcd-flagger")
    expect(flagger.dig(:status, :downloadCount)).to eq(counts.fetch("flagger"))
    expect(condition(flagger)).to include(status: "True", reason: "Succeeded")
    expect(condition(flagger, "VersionsRead")).to include(status: "False", reason: "NotFound")
    expect(flagger.dig(:status, :versions)).to be_nil
  end
end
