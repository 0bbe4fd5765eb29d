# frozen_string_literal: true

require "stats_tracker/operator/reconcilers/leaf"

# The Leaf reconciler with the real world it talks to: the real Fetcher over HTTP to the local
# page server, and the real wasm parser. No Kubernetes here: it only computes the status.
RSpec.describe StatsTracker::Operator::Reconcilers::Leaf do
  let(:pages) { StatsTracker::Testing::PageServer.new.start }
  let(:fetcher) { StatsTracker::Fetcher.new(base_url: pages.base_url, max_retries: 0) }
  let(:now) { [Time.utc(2026, 11, 1, 12, 0, 0)] }
  let(:reconciler) do
    described_class.new(fetcher_for: ->(_leaf) { fetcher }, parser: StatsTracker::Parser.new, acquire: ->(_leaf) { 0.0 },
                        clock: -> { now[0] }, random: Random.new(1))
  end
  let(:path) { "/orgs/fluxcd/packages/container/package/flagger" }

  after { pages.stop }

  def leaf(status: nil, generation: 1, annotations: nil, suspend: false)
    { metadata: { name: "fluxcd-flagger", namespace: "ns", uid: "u1", generation: generation, annotations: annotations }.compact,
      spec: { owner: "fluxcd", package: "flagger", interval: "1h", suspend: suspend },
      status: status || { observedGeneration: -1 } }
  end

  def serve(total)
    pages.serve_package(owner: "fluxcd", package: "flagger", html: StatsTracker::Testing::PageServer.package_html(total: total))
  end

  def good_status
    serve(42)
    reconciler.reconcile(leaf).status
  end

  it "reads the count and marks the Leaf Ready, requeueing at the interval" do
    serve(1234)
    out = reconciler.reconcile(leaf)
    expect(out.status).to include(downloadCount: 1234, observedGeneration: 1, lastUpdate: "2026-11-01T12:00:00Z")
    expect(out.status[:history]).to eq([{ time: "2026-11-01T12:00:00Z", downloadCount: 1234 }])
    expect(out.status[:last30Days].size).to eq(30)
    expect(out.status[:conditions]).to contain_exactly(include(type: "Ready", status: "True", reason: "Succeeded"))
    expect(out.requeue_after).to be_between(3600, 3600 * 1.05)
    expect(out).not_to be_failed
  end

  it "asks nothing of GitHub when the Leaf is not due, and says when it will be" do
    status = good_status
    now[0] += 600
    count = pages.request_count
    out = reconciler.reconcile(leaf(status: status))
    expect(pages.request_count).to eq(count)
    expect(out.status).to eq(status)
    expect(out.requeue_after).to be_within(1).of(3000)
  end

  it "sends If-None-Match and keeps count and history on 304" do
    status = good_status
    now[0] += 3600
    out = reconciler.reconcile(leaf(status: status))
    expect(pages.requests.last).to include(status: 304)
    expect(pages.requests.last[:if_none_match]).not_to be_nil
    expect(out.status).to include(downloadCount: 42, lastUpdate: "2026-11-01T13:00:00Z")
    expect(out.status[:history].size).to eq(1)
  end

  it "records a change in the bounded history" do
    status = good_status
    31.times do |i|
      now[0] += 3600
      serve(100 + i)
      status = reconciler.reconcile(leaf(status: status)).status
    end
    expect(status[:history].size).to eq(described_class::HISTORY_LIMIT)
    expect(status[:history].last[:downloadCount]).to eq(130)
  end

  it "reconciles at once when asked with requestedAt and echoes the token" do
    status = good_status
    serve(43)
    out = reconciler.reconcile(leaf(status: status, annotations: { "reconcile.fluxcd.io/requestedAt": "t1" }))
    expect(out.status).to include(downloadCount: 43, lastHandledReconcileAt: "t1")
  end

  {
    "a rate-limit page (429)" => [->(p, path) { p.fail_next(path, status: 429, retry_after: 7) }, "RateLimited", 7],
    "a not-found page (404)" => [->(p, path) { p.fail_next(path, status: 404) }, "NotFound", nil],
    "a page with a malformed count" => [lambda { |p, _|
                                          p.serve_package(owner: "fluxcd", package: "flagger", fixture: "reject-malformed-count.html")
                                        }, "ParseFailed", nil],
    "a server error" => [->(p, path) { p.fail_next(path, status: 503) }, "FetchFailed", nil]
  }.each do |what, (provoke, reason, retry_after)|
    it "on #{what}: Ready=False/#{reason}, keeps the last good count and history, asks for a retry" do
      status = good_status
      provoke.call(pages, path)
      now[0] += 3600
      out = reconciler.reconcile(leaf(status: status))
      expect(out).to be_failed
      expect(out.failure.reason).to eq(reason)
      expect(out.failure.retry_after).to eq(retry_after) if retry_after
      expect(out.status).to include(downloadCount: 42, history: status[:history], lastUpdate: status[:lastUpdate])
      expect(out.status[:conditions]).to contain_exactly(include(type: "Ready", status: "False", reason: reason))
      expect(out.event).to eq(["Warning", reason, out.failure.message])
    end
  end

  it "is Stalled when the page wants a login (retrying without a token cannot help)" do
    pages.serve_package(owner: "fluxcd", package: "flagger", fixture: "reject-login-required.html")
    out = reconciler.reconcile(leaf)
    expect(out.failure).to have_attributes(reason: "LoginRequired", stalled: true)
    expect(out.status[:conditions].map { |c| [c[:type], c[:status]] }).to contain_exactly(%w[Ready False], %w[Stalled True])
    expect(out.status[:observedGeneration]).to eq(1)
  end

  it "makes no request while suspended but acknowledges the generation" do
    status = good_status
    count = pages.request_count
    out = reconciler.reconcile(leaf(status: status, generation: 2, suspend: true))
    expect(pages.request_count).to eq(count)
    expect(out.status).to include(observedGeneration: 2, downloadCount: 42)
  end

  def waiting_for(seconds)
    described_class.new(fetcher_for: ->(_leaf) { fetcher }, parser: StatsTracker::Parser.new, acquire: ->(_leaf) { seconds },
                        clock: -> { now[0] }, random: Random.new(1))
  end

  it "waits without a request when the GitHub budget has no token, and says so on Reconciling" do
    count = pages.request_count
    out = waiting_for(12.5).reconcile(leaf)
    expect(pages.request_count).to eq(count)
    expect(out).to be_waiting
    expect(out.requeue_after).to eq(12.5)
    expect(out.status[:conditions].map { |c| [c[:type], c[:status], c[:reason]] })
      .to contain_exactly(%w[Reconciling True WaitingForGitHubBudget], %w[Ready Unknown WaitingForGitHubBudget])
    expect(out.status[:conditions].first[:message]).to include("13s")
  end

  it "keeps Ready while a requestedAt token waits, and writes the wait once, not at every turn" do
    requested = leaf(status: good_status, annotations: { "reconcile.fluxcd.io/requestedAt": "t1" })
    first = waiting_for(30.0).reconcile(requested)
    expect(first.status[:conditions]).to include(include(type: "Ready", status: "True"))
    expect(first.status[:lastHandledReconcileAt]).to be_nil
    again = waiting_for(10.0).reconcile(requested.merge(status: first.status))
    expect(again.status).to eq(first.status)
    done = reconciler.reconcile(requested.merge(status: first.status))
    expect(done.status[:lastHandledReconcileAt]).to eq("t1")
    expect(done.status[:conditions].map { |c| c[:type] }).not_to include("Reconciling")
  end

  it "does nothing once the process stops (no turn will come)" do
    out = waiting_for(Float::INFINITY).reconcile(leaf)
    expect(out).not_to be_waiting
    expect(out.status).to eq(observedGeneration: -1)
  end
end
