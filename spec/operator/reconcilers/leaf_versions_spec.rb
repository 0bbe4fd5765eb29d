# frozen_string_literal: true

require "json"
require "stats_tracker/operator/reconcilers/leaf"
require "stats_tracker/operator/status_diff"

# spec.versions on the Leaf reconciler, with the real Fetcher over HTTP to the local page server
# and the real wasm parser: the most downloaded tags land in the status and every tag read goes
# to the recorder, while a versions read that fails or finds no spare GitHub budget never
# touches the count, Ready or the retry schedule.
RSpec.describe StatsTracker::Operator::Reconcilers::Leaf, "versions" do
  let(:pages) { StatsTracker::Testing::PageServer.new.start }
  let(:fetcher) { StatsTracker::Fetcher.new(base_url: pages.base_url, max_retries: 0) }
  let(:now) { [Time.utc(2026, 11, 1, 12, 0, 0)] }
  let(:observed) { [] }
  let(:paused) { [] }
  let(:spare) { [true] }
  let(:reconciler) do
    described_class.new(fetcher_for: ->(_leaf) { fetcher }, parser: StatsTracker::Parser.new, acquire: ->(_leaf) { 0.0 },
                        clock: -> { now[0] }, random: Random.new(1), acquire_spare: -> { spare.shift.tap { spare << _1 } },
                        on_rate_limited: ->(seconds) { paused << seconds },
                        on_observation: ->(_leaf, stats, _at, versions: nil) { observed << [stats.total_downloads, versions] })
  end
  let(:versions_path) { pages.versions_path("fluxcd", "flagger") }
  let(:fixture_pages) { %w[versions-tagged-2023.html versions-tagged-page2.html] }
  # The tags as the corpus's expected.json lists them, page after page.
  let(:all_tags) do
    expected = JSON.parse(File.read(File.join(GHCR_FIXTURES, "expected.json")))
    fixture_pages.flat_map { |name| expected.fetch(name).fetch("versions") }
  end

  before do
    pages.serve_package(owner: "fluxcd", package: "flagger", html: StatsTracker::Testing::PageServer.package_html(total: 77))
    pages.serve_versions(owner: "fluxcd", package: "flagger", pages: fixture_pages)
  end

  after { pages.stop }

  def leaf(versions: { limit: 3, maxPages: 5 }, status: nil)
    { metadata: { name: "fluxcd-flagger", namespace: "ns", uid: "u1", generation: 1 },
      spec: { owner: "fluxcd", package: "flagger", interval: "1h", versions: versions }.compact,
      status: status || { observedGeneration: -1 } }
  end

  def condition(status, type)
    status[:conditions].find { |c| c[:type] == type }
  end

  def versions_requests
    pages.requests.count { |r| r[:path].start_with?(versions_path) }
  end

  it "keeps the most downloaded tags in the status and hands every tag read to the recorder" do
    out = reconciler.reconcile(leaf)

    ranked = all_tags.each_with_index.sort_by { |t, i| [-t["downloads"], i] }.map(&:first)
    expect(out.status[:versions]).to eq(lastUpdate: "2026-11-01T12:00:00Z", pages: 2, tags: all_tags.size,
                                        top: ranked.first(3).map { |t| { tag: t["tag"], downloads: t["downloads"] } })
    expect(condition(out.status, "VersionsRead")).to include(status: "True", reason: "Succeeded")
    expect(out.status).to include(downloadCount: 77)
    expect(observed.map { |total, versions| [total, versions.map(&:to_h)] }).to eq([[77, all_tags]])
    # Pages 1 and 2, then page 3 answers "not found" and ends the chain.
    expect(versions_requests).to eq(3)
  end

  it "stops at maxPages and says more may follow" do
    out = reconciler.reconcile(leaf(versions: { limit: 1, maxPages: 1 }))
    expect(out.status[:versions]).to include(pages: 1, tags: 14, top: [{ tag: "v1.0.0-rc.1", downloads: 419_002 }])
    expect(condition(out.status, "VersionsRead")[:message]).to include("more pages may follow")
    expect(versions_requests).to eq(1)
  end

  it "a failed versions read keeps the count, Ready and the last top tags, and asks for no retry" do
    first = reconciler.reconcile(leaf).status
    pages.fail_next(versions_path, status: 500)
    pages.serve_package(owner: "fluxcd", package: "flagger", html: StatsTracker::Testing::PageServer.package_html(total: 78))
    now[0] += 3600

    out = reconciler.reconcile(leaf(status: first))
    expect(out).not_to be_failed
    expect(out.status).to include(downloadCount: 78, versions: first[:versions])
    expect(condition(out.status, "Ready")).to include(status: "True", reason: "Succeeded")
    expect(condition(out.status, "VersionsRead")).to include(status: "False", reason: "FetchFailed")
    expect(out.event).to be_nil
    expect(observed.last).to eq([78, nil])
  end

  it "a 429 on a versions page pauses every GitHub request" do
    pages.fail_next(versions_path, status: 429, retry_after: 42, body: pages.corpus.read("reject-rate-limited-versions.html"))
    out = reconciler.reconcile(leaf)
    expect(condition(out.status, "VersionsRead")).to include(status: "False", reason: "RateLimited")
    expect(paused).to eq([42])
    expect(out).not_to be_failed
  end

  it "without a spare GitHub token reads no versions page, and keeps what it had" do
    spare.replace([false])
    out = reconciler.reconcile(leaf)
    expect(versions_requests).to eq(0)
    expect(out.status).not_to have_key(:versions)
    expect(condition(out.status, "VersionsRead")).to include(status: "False", reason: "BudgetExhausted")
    expect(condition(out.status, "Ready")).to include(status: "True")
    expect(observed).to eq([[77, nil]])
  end

  it "drops a partial read when the budget runs out between pages" do
    spare.replace([true, false])
    out = reconciler.reconcile(leaf)
    expect(versions_requests).to eq(1)
    expect(condition(out.status, "VersionsRead")[:message]).to include("after 1 versions pages")
    expect(observed).to eq([[77, nil]])
  end

  it "is off by default, and turning it off removes what it wrote" do
    plain = reconciler.reconcile(leaf(versions: nil)).status
    expect(plain).not_to have_key(:versions)
    expect(plain[:conditions].map { |c| c[:type] }).to eq(["Ready"])
    expect(versions_requests).to eq(0)

    with = reconciler.reconcile(leaf).status
    now[0] += 3600
    off = reconciler.reconcile(leaf(versions: nil, status: with)).status
    expect(StatsTracker::Operator::StatusDiff.compact(off)).not_to have_key(:versions)
    expect(off[:conditions].map { |c| c[:type] }).to eq(["Ready"])
  end
end
