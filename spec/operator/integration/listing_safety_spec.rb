# frozen_string_literal: true

require_relative "../support/operator_harness"

# A listing the operator could not read to its end must never read as "these packages are gone":
# each Leaf carries history GitHub will not give back.
RSpec.describe "operator on a listing it cannot read to the end", kube: true do
  include StatsTracker::Testing::OperatorHarness

  let(:pages) { StatsTracker::Testing::PageServer.new.start }
  let(:listing) { StatsTracker::Testing::OperatorHarness::LISTING }
  let(:listing_prefix) { "/orgs/fluxcd/packages?" }

  before { install_crds }

  after do
    stop_operators
    pages.stop
  end

  def packages_on(fixture)
    parser.listing(File.binread(File.join(GHCR_FIXTURES, fixture))).packages.map(&:name)
  end

  def start_ready
    counts = serve_fluxcd(pages)
    runtime = start_operator(pages)
    apply_project("fluxcd")
    wait_project_ready("fluxcd", packages: counts.size)
    [runtime, leaves.map { |l| l.dig(:metadata, :name) }]
  end

  def wait_handled(token)
    wait_for("the Project to handle request #{token}") do
      p = project("fluxcd")
      p if p.dig(:status, :lastHandledReconcileAt) == token
    end
  end

  it "deletes nothing and says ListingIncomplete when the operator stops in the middle of the listing" do
    _runtime, names = start_ready
    pages.delay_next("#{listing_prefix}page=1", seconds: 3)
    request_reconcile("projects", "fluxcd")
    wait_for("the listing read to start") { pages.in_flight.positive? }

    stop_operators # what SIGTERM does; in-flight reconciles finish first

    expect(leaves.map { |l| l.dig(:metadata, :name) }).to match_array(names)
    expect(condition(project("fluxcd"))).to include(status: "False", reason: "ListingIncomplete")
    expect(pages.request_count("#{listing_prefix}page=2")).to eq(1) # only the first, complete read
  end

  it "deletes nothing and says ListingIncomplete when a listing page links back" do
    _runtime, names = start_ready
    pages.serve_listing(owner: "fluxcd", pages: listing.first(2) + [listing[1]]) # page 3 now says "next: 3"
    request_reconcile("projects", "fluxcd")

    failed = wait_for("Ready=False/ListingIncomplete") do
      p = project("fluxcd")
      p if condition(p)&.values_at(:status, :reason) == %w[False ListingIncomplete]
    end
    expect(condition(failed)[:message]).to include("backward_link")
    expect(leaves.map { |l| l.dig(:metadata, :name) }).to match_array(names)
  end

  it "deletes the Leafs of packages missing from the listing only after two complete listings miss them" do
    _runtime, names = start_ready
    vanished = packages_on(listing[1]) - packages_on(listing[0]) - packages_on(listing[2])
    # Page 1 still links to page 2, which now holds page 3's packages and no next link: a
    # complete listing without page 2's packages (as when GitHub drops its "next" link).
    pages.serve_listing(owner: "fluxcd", pages: [listing[0], listing[2]])

    wait_handled(request_reconcile("projects", "fluxcd"))
    expect(leaves.map { |l| l.dig(:metadata, :name) }).to match_array(names)

    wait_handled(request_reconcile("projects", "fluxcd"))
    wait_for("the second listing to delete them") { leaves.size == names.size - vanished.size }
    expect(leaves.map { |l| l.dig(:spec, :package) }).not_to include(*vanished)
  end
end
