# frozen_string_literal: true

require_relative "../support/operator_harness"

RSpec.describe "operator on GitHub failures", kube: true do
  include StatsTracker::Testing::OperatorHarness

  let(:pages) { StatsTracker::Testing::PageServer.new.start }
  let(:flagger_path) { "/orgs/fluxcd/packages/container/package/flagger" }

  before { install_crds }

  after do
    stop_operators
    pages.stop
  end

  def start_with_flagger
    counts = serve_fluxcd(pages)
    runtime = start_operator(pages)
    apply_project("fluxcd", include: ["flagger"])
    wait_project_ready("fluxcd", packages: 1)
    [runtime, counts.fetch("flagger")]
  end

  def wait_reason(reason)
    wait_for("Leaf Ready=False/#{reason}") do
      l = leaf("fluxcd-flagger")
      l if condition(l)&.values_at(:status, :reason) == ["False", reason]
    end
  end

  def events_for(name)
    api_for("events").list(namespace: namespace).first.select { |e| e.dig(:regarding, :name) == name }
  end

  it "marks a rate-limited Leaf RateLimited, keeps its count and history, records an Event, and recovers" do
    _runtime, count = start_with_flagger
    history = leaf("fluxcd-flagger").dig(:status, :history)
    pages.fail_next(flagger_path, status: 429, retry_after: 3, times: 1)
    request_reconcile("leaves", "fluxcd-flagger")

    failed = wait_reason("RateLimited")
    expect(failed.dig(:status, :downloadCount)).to eq(count)
    expect(failed.dig(:status, :history)).to eq(history)
    expect(condition(failed)[:message]).to include("rate_limited")
    wait_for("a Warning Event") { events_for("fluxcd-flagger").any? { |e| e[:reason] == "RateLimited" && e[:type] == "Warning" } }
    reported = wait_for("the Project to report its Leaf") do
      p = project("fluxcd")
      p if condition(p, "LeavesReady")&.dig(:reason) == "LeavesNotReady"
    end
    # A failing Leaf does not make its Project un-Ready: the listing was read and the Leafs are in place.
    expect(condition(reported)).to include(status: "True")
    expect(reported.dig(:status, :readyLeaves)).to eq(0)

    # The retry, once Retry-After has passed, gets the page again.
    wait_for("the Leaf to recover") { ready?(leaf("fluxcd-flagger")) }
    wait_project_ready("fluxcd", packages: 1)
  end

  it "reports NotFound for a package page that is gone and ParseFailed for a malformed count" do
    _runtime, count = start_with_flagger
    pages.remove(flagger_path)
    request_reconcile("leaves", "fluxcd-flagger")
    expect(wait_reason("NotFound").dig(:status, :downloadCount)).to eq(count)

    pages.serve_package(owner: "fluxcd", package: "flagger", fixture: "reject-malformed-count.html")
    request_reconcile("leaves", "fluxcd-flagger")
    parse_failed = wait_reason("ParseFailed")
    expect(parse_failed.dig(:status, :downloadCount)).to eq(count)
    expect(parse_failed.dig(:status, :history).map { |h| h[:downloadCount] }).to eq([count])
    wait_for("both Events") { (%w[NotFound ParseFailed] - events_for("fluxcd-flagger").map { |e| e[:reason] }).empty? }
  end

  it "reports a listing that cannot be read on the Project without touching its Leafs" do
    start_with_flagger
    pages.fail_next("/orgs/fluxcd/packages?", status: 429, retry_after: 1, times: 1000)
    request_reconcile("projects", "fluxcd")
    failed = wait_for("Project Ready=False/RateLimited") do
      p = project("fluxcd")
      p if condition(p)&.values_at(:status, :reason) == %w[False RateLimited]
    end
    expect(failed.dig(:status, :packageCount)).to eq(1)
    expect(leaves.map { |l| l.dig(:metadata, :name) }).to eq(["fluxcd-flagger"])
  end

  # An unreachable GitHub is a failed listing, not an empty one: no Ready=True "0 packages".
  it "never calls a Project Ready whose GitHub cannot be reached, and counts no packages for it" do
    start_operator(pages, github_base_url: "http://127.0.0.1:#{free_port}")
    apply_project("fluxcd")
    first = wait_for("the Project's first Ready condition") do
      p = project("fluxcd")
      p if condition(p)
    end
    expect(condition(first).values_at(:status, :message)).to match(["False", /127\.0\.0\.1/])
    expect(first.dig(:status, :observedGeneration)).not_to eq(first.dig(:metadata, :generation))
    expect(first.dig(:status, :packageCount).to_i).to eq(0)
    expect(leaves).to be_empty
  end
end
