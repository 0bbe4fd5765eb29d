# frozen_string_literal: true

require_relative "../support/operator_harness"

# A Project whose listing fails waits out a backoff. Ordinary events during that wait (a
# requested reconcile, one of its Leafs changing) must neither drop the retry nor push it out to
# the interval (1 h by default).
RSpec.describe "operator schedule during a listing backoff", kube: true do
  include StatsTracker::Testing::OperatorHarness

  let(:pages) { StatsTracker::Testing::PageServer.new.start }
  let(:page2) { "/orgs/fluxcd/packages?page=2" }
  # Five failures in a row: the next retry is 8-16 s away, room for an event to arrive first.
  let(:failures) { 5 }

  before { install_crds }

  after do
    stop_operators
    pages.stop
  end

  def listing_reads(status)
    pages.requests.count { |r| r[:path].start_with?(page2) && r[:status] == status }
  end

  # Leaves the Project Ready=False/FetchFailed, waiting out the backoff after `failures` failed
  # listing reads; page 2 answers normally again from then on.
  def fail_listing_into_backoff
    runtime = start_operator(pages)
    serve_fluxcd(pages)
    apply_project("fluxcd", include: ["flagger*"])
    wait_project_ready("fluxcd", packages: 3)
    wait_for("the Leafs to be Ready") { leaves.size == 3 && leaves.all? { |l| ready?(l) } }

    pages.fail_next(page2, status: 500, times: failures)
    request_reconcile("projects", "fluxcd")
    queue = runtime.manager.queue
    wait_for("#{failures} failed listing reads, the last one scheduled for a retry") do
      listing_reads(500) == failures && queue.failures(project_key) == failures
    end
    expect(condition(project("fluxcd"))).to include(status: "False", reason: "FetchFailed")
    listing_reads(200)
  end

  def project_key
    StatsTracker::Operator::Controller::ObjectKey.new(:project, namespace, "fluxcd")
  end

  it "reads the listing at once for a requestedAt token set during the backoff, and records it" do
    healthy_reads = fail_listing_into_backoff
    token = request_reconcile("projects", "fluxcd")

    handled = wait_for("the requested reconcile to read the listing", timeout: 60) do
      p = project("fluxcd")
      p if listing_reads(200) > healthy_reads && p.dig(:status, :lastHandledReconcileAt) == token && ready?(p)
    end
    expect(handled.dig(:status, :packageCount)).to eq(3)
  end

  it "still retries the listing within its backoff when a Leaf changes during the backoff" do
    healthy_reads = fail_listing_into_backoff
    token = request_reconcile("leaves", "fluxcd-flagger")
    wait_for("the Leaf to handle its request") { leaf("fluxcd-flagger").dig(:status, :lastHandledReconcileAt) == token }

    # The retry was due 8-16 s after the last failure; the bound is generous for a loaded machine.
    wait_for("the listing retry", timeout: 90) { listing_reads(200) > healthy_reads }
    wait_project_ready("fluxcd", packages: 3)
  end
end
