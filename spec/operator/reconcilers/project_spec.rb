# frozen_string_literal: true

require "stats_tracker/operator/reconcilers/project"

# The Project reconciler over the real fetcher, page server and wasm parser; no Kubernetes.
RSpec.describe StatsTracker::Operator::Reconcilers::Project do
  let(:pages) { StatsTracker::Testing::PageServer.new.start }
  let(:fetcher) { StatsTracker::Fetcher.new(base_url: pages.base_url, max_retries: 0) }
  let(:now) { [Time.utc(2026, 11, 1, 12, 0, 0)] }
  let(:reconciler) do
    described_class.new(fetcher_for: ->(_p) { fetcher }, parser: StatsTracker::Parser.new, acquire: ->(_p, **) { 0.0 },
                        clock: -> { now[0] }, random: Random.new(1))
  end
  let(:listing) { %w[listing-fluxcd-page1.html listing-fluxcd-page2.html listing-fluxcd-page3.html] }

  before { pages.serve_listing(owner: "fluxcd", pages: listing) }
  after { pages.stop }

  def project(spec = {}, status: nil, generation: 1) # spec is passed braced: keywords are for the rest
    { metadata: { name: "fluxcd", namespace: "ns", uid: "p-uid", generation: generation },
      spec: { owner: "fluxcd", interval: "1h" }.merge(spec), status: status || { observedGeneration: -1 } }
  end

  def ready_leaf(name, count)
    { metadata: { name: name, namespace: "ns" }, spec: {},
      status: { downloadCount: count, conditions: [{ type: "Ready", status: "True", reason: "Succeeded" }] } }
  end

  it "reads every listing page and wants one owned Leaf per package" do
    plan = reconciler.reconcile(project, owned_leaves: [])
    expect(pages.request_count("/orgs/fluxcd/packages?")).to eq(3)
    expect(plan.desired_leaves.size).to eq(22)
    body = plan.desired_leaves.fetch("fluxcd-charts-flagger")
    expect(body[:spec]).to include(owner: "fluxcd", package: "charts/flagger", repository: "fluxcd/flagger", interval: "1h")
    expect(body.dig(:metadata, :ownerReferences)).to eq([{ apiVersion: "stats-tracker.dev/v1alpha1", kind: "Project",
                                                           name: "fluxcd", uid: "p-uid", controller: true,
                                                           blockOwnerDeletion: true }])
    expect(plan.outcome.status).to include(packageCount: 22, readyLeaves: 0, observedGeneration: 1)
    expect(plan.outcome.status[:conditions].map { |c| [c[:type], c[:status]] })
      .to contain_exactly(%w[Ready True], %w[LeavesReady Unknown])
  end

  it "applies include, then exclude patterns" do
    plan = reconciler.reconcile(project({ include: ["flagger*", "charts/*"], exclude: ["*-arm64"] }), owned_leaves: [])
    expect(plan.desired_leaves.values.map { |b| b.dig(:spec, :package) })
      .to contain_exactly("flagger", "flagger-loadtester", "charts/flagger", "charts/flux-monitoring")
  end

  it "renames a Leaf whose name another Project already controls" do
    plan = reconciler.reconcile(project({ include: ["flagger"] }), owned_leaves: [], taken_names: ["fluxcd-flagger"])
    name = plan.desired_leaves.keys.first
    expect(name).to start_with("fluxcd-flagger-")
    expect(StatsTracker::Operator::Names.valid?(name)).to be(true)
  end

  it "aggregates its Leafs without reading the listing when not due" do
    first = reconciler.reconcile(project({ include: ["flagger*"] }), owned_leaves: []).outcome.status
    leaves = [ready_leaf("fluxcd-flagger", 10), ready_leaf("fluxcd-flagger-arm64", 5), ready_leaf("fluxcd-flagger-loadtester", 1)]
    count = pages.request_count
    plan = reconciler.reconcile(project({ include: ["flagger*"] }, status: first), owned_leaves: leaves)
    expect(pages.request_count).to eq(count)
    expect(plan.desired_leaves).to be_nil
    expect(plan.outcome.status).to include(packageCount: 3, readyLeaves: 3, totalDownloads: 16)
    expect(plan.outcome.status[:conditions])
      .to contain_exactly(include(type: "Ready", status: "True"), include(type: "LeavesReady", status: "True"))
  end

  it "stays Ready while a Leaf fails, and reports the Leafs in LeavesReady and readyLeaves" do
    first = reconciler.reconcile(project({ include: ["flagger*"] }), owned_leaves: []).outcome.status
    failing = ready_leaf("fluxcd-flagger-arm64", 5)
    failing = failing.merge(status: failing[:status].merge(conditions: [{ type: "Ready", status: "False", reason: "NotFound" }]))
    leaves = [ready_leaf("fluxcd-flagger", 10), failing, ready_leaf("fluxcd-flagger-loadtester", 1)]
    status = reconciler.reconcile(project({ include: ["flagger*"] }, status: first), owned_leaves: leaves).outcome.status
    expect(status).to include(packageCount: 3, readyLeaves: 2)
    expect(status[:conditions]).to contain_exactly(
      include(type: "Ready", status: "True"),
      include(type: "LeavesReady", status: "False", reason: "LeavesNotReady", message: include("fluxcd-flagger-arm64"))
    )
  end

  it "fails with RateLimited and GitHub's Retry-After when a listing page is rate limited" do
    pages.fail_next("/orgs/fluxcd/packages?page=2", status: 429, retry_after: 9)
    plan = reconciler.reconcile(project, owned_leaves: [ready_leaf("fluxcd-flagger", 10)])
    expect(plan.desired_leaves).to be_nil
    expect(plan.outcome.failure).to have_attributes(reason: "RateLimited", retry_after: 9)
    expect(plan.outcome.status).to include(packageCount: 1, totalDownloads: 10)
  end

  def owned_leaf(package)
    name = StatsTracker::Operator::Names.leaf_names(project: "fluxcd", packages: [package]).fetch(package)
    ready_leaf(name, 1).merge(spec: { package: package })
  end

  it "fails with ListingIncomplete and leaves the Leaf set alone when a listing page links back" do
    pages.serve_listing(owner: "fluxcd", pages: listing.first(2) + [listing[1]]) # page 3 says "next: 3"
    plan = reconciler.reconcile(project, owned_leaves: [owned_leaf("flagger")])
    expect(plan.desired_leaves).to be_nil
    expect(plan.deletions).to eq([])
    expect(plan.outcome.failure).to have_attributes(reason: "ListingIncomplete", stalled: be_falsey)
    expect(plan.outcome.status[:conditions]).to include(include(type: "Ready", status: "False", reason: "ListingIncomplete"))
  end

  it "fails with ListingIncomplete when the process stops between two listing pages" do
    answers = [0.0, 0.0, Float::INFINITY] # before the read, before page 2, before page 3
    stopping = described_class.new(fetcher_for: ->(_p) { fetcher }, parser: StatsTracker::Parser.new,
                                   acquire: ->(_p, **) { answers.shift }, clock: -> { now[0] })
    plan = stopping.reconcile(project, owned_leaves: [owned_leaf("flagger")])
    expect(pages.request_count("/orgs/fluxcd/packages?")).to eq(2)
    expect(plan.desired_leaves).to be_nil
    expect(plan.outcome.failure.reason).to eq("ListingIncomplete")
  end

  def budget(*answers)
    described_class.new(fetcher_for: ->(_p) { fetcher }, parser: StatsTracker::Parser.new, clock: -> { now[0] },
                        random: Random.new(1), acquire: ->(_p, **) { answers.empty? ? 0.0 : answers.shift })
  end

  def listing_requests(page)
    pages.request_count("/orgs/fluxcd/packages?page=#{page}")
  end

  it "keeps the pages read when the budget runs out mid-listing, and goes on from there at its turn" do
    reconciler = budget(0.0, 0.0, 30.0) # before the read, before page 2, before page 3
    leaf = owned_leaf("a-package-github-no-longer-lists")
    waiting = reconciler.reconcile(project, owned_leaves: [leaf])
    expect(waiting.outcome).to be_waiting
    expect(waiting.outcome.requeue_after).to eq(30.0)
    expect([waiting.desired_leaves, waiting.deletions]).to eq([nil, []])
    expect(waiting.outcome.status[:conditions]).to include(include(type: "Reconciling", reason: "WaitingForGitHubBudget"))
    expect([1, 2, 3].map { |n| listing_requests(n) }).to eq([1, 1, 0])

    done = reconciler.reconcile(project(status: waiting.outcome.status), owned_leaves: [leaf])
    expect([1, 2, 3].map { |n| listing_requests(n) }).to eq([1, 1, 1])
    expect(done.desired_leaves.size).to eq(22)
    expect(done.outcome.status[:conditions].map { |c| c[:type] }).not_to include("Reconciling")
    # A pass stitched from two turns is one complete listing: the deletion rule counts it.
    again = reconciler.reconcile(project(status: done.outcome.status, generation: 2), owned_leaves: [leaf])
    expect(again.deletions).to eq([leaf.dig(:metadata, :name)])
  end

  it "reads from page 1 again after a spec change or when the kept pages are too old" do
    reconciler = budget(0.0, 0.0, 30.0, 0.0, 0.0, 30.0)
    first = reconciler.reconcile(project, owned_leaves: [])
    expect(first.outcome).to be_waiting
    changed = reconciler.reconcile(project(status: first.outcome.status, generation: 2), owned_leaves: [])
    expect(changed.outcome).to be_waiting
    expect([1, 2, 3].map { |n| listing_requests(n) }).to eq([2, 2, 0])
    now[0] += StatsTracker::Operator::Reconcilers::ListingProgress::MAX_AGE + 1
    reconciler.reconcile(project(status: changed.outcome.status, generation: 2), owned_leaves: [])
    expect([1, 2, 3].map { |n| listing_requests(n) }).to eq([3, 3, 1])
  end

  it "lets the worker go after a share of pages even with budget to spare, and goes on at once" do
    stub_const("#{described_class}::PAGES_PER_TURN", 2)
    plan = reconciler.reconcile(project, owned_leaves: [])
    expect(plan.outcome).to be_waiting
    expect(plan.outcome.requeue_after).to eq(0.0)
    expect(plan.outcome.status[:conditions].to_a.map { |c| c[:type] }).not_to include("Reconciling")
    expect(reconciler.reconcile(project(status: plan.outcome.status), owned_leaves: []).desired_leaves.size).to eq(22)
  end

  it "deletes a Leaf whose package left the listing only once two complete listings in a row miss it" do
    gone = owned_leaf("a-package-github-no-longer-lists")
    first = reconciler.reconcile(project, owned_leaves: [gone])
    expect(first.deletions).to eq([])
    expect(first.desired_leaves).not_to have_key(gone.dig(:metadata, :name))

    second = reconciler.reconcile(project(status: first.outcome.status, generation: 2), owned_leaves: [gone])
    expect(second.deletions).to eq([gone.dig(:metadata, :name)])
  end

  it "starts the count again when the package comes back between two listings" do
    pages.serve_listing(owner: "fluxcd", pages: [listing[0], listing[2]]) # page 2's packages missing
    flux_page2 = StatsTracker::Parser.new.listing(File.binread(File.join(GHCR_FIXTURES, listing[1]))).packages.first.name
    leaf = owned_leaf(flux_page2)
    expect(reconciler.reconcile(project, owned_leaves: [leaf]).deletions).to eq([])
    pages.serve_listing(owner: "fluxcd", pages: listing)
    expect(reconciler.reconcile(project(generation: 2), owned_leaves: [leaf]).deletions).to eq([])
    pages.serve_listing(owner: "fluxcd", pages: [listing[0], listing[2]])
    expect(reconciler.reconcile(project(generation: 3), owned_leaves: [leaf]).deletions).to eq([])
  end

  it "deletes at once a Leaf the user's include/exclude patterns no longer select" do
    plan = reconciler.reconcile(project({ exclude: ["flagger"] }), owned_leaves: [owned_leaf("flagger")])
    expect(plan.deletions).to eq([owned_leaf("flagger").dig(:metadata, :name)])
  end

  it "suspends its Leafs and asks nothing of GitHub while suspended" do
    owned = [ready_leaf("fluxcd-flagger", 10).merge(spec: { package: "flagger", repository: "fluxcd/flagger" })]
    plan = reconciler.reconcile(project({ suspend: true }), owned_leaves: owned)
    expect(pages.request_count).to eq(0)
    expect(plan.desired_leaves.fetch("fluxcd-flagger")[:spec]).to include(suspend: true, package: "flagger")
  end
end
