# frozen_string_literal: true

require_relative "../simulation/scripted_operator"

# The two ways the listing retry of issue #19 was lost, scripted step by step on the simulated
# clock, API server and GitHub with the real queue, informers, controllers and reconcilers.
RSpec.describe "Project listing retry during a backoff" do
  include_context "scripted operator"

  let(:key) { StatsTracker::Operator::Controller::ObjectKey.new(:project, "ns", "apps") }

  before do
    start_project(%w[a b c d e])
  end

  def listing_reads(fault = nil)
    github.requests.count { |r| r[:target] == [:listing, "acme"] && r[:fault] == fault }
  end

  def fail_listing_into_backoff
    github.arm([:listing, "acme"], :server_error, 5)
    server.annotate("projects", "ns/apps", StatsTracker::Operator::Reconcilers::Schedule::REQUESTED_AT, "t0")
    run_for(1) until listing_reads(:server_error) == 5
    expect(operator.queue.next_due(key).first).to eq(:retry)
    listing_reads
  end

  it "is still due when a Leaf changes during the backoff" do
    reads = fail_listing_into_backoff
    server.user_delete("leaves", "ns/apps-a")
    run_for(3)
    expect(listing_reads).to eq(reads)
    expect(operator.queue.next_due(key).first).to eq(:retry)
    run_for(40)
    expect(listing_reads).to be > reads
    expect(server.get("leaves", "ns/apps-a")).not_to be_nil
  end

  it "gives way to a requestedAt token at once, which reads the listing" do
    reads = fail_listing_into_backoff
    server.annotate("projects", "ns/apps", StatsTracker::Operator::Reconcilers::Schedule::REQUESTED_AT, "t1")
    run_for(2)
    expect(listing_reads).to be > reads
    expect(server.get("projects", "ns/apps").dig(:status, :lastHandledReconcileAt)).to eq("t1")
  end
end
