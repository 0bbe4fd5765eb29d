# frozen_string_literal: true

require_relative "../simulation/world"

# The two ways the listing retry of issue #19 was lost, scripted step by step on the simulated
# clock, API server and GitHub with the real queue, informers, controllers and reconcilers.
RSpec.describe "Project listing retry during a backoff" do
  sim = StatsTracker::Simulation

  let(:clock) { sim::Clock.new }
  let(:trace) { [] }
  let(:random) { Random.new(5) }
  let(:server) { sim::ApiServer.new(clock: clock, random: random, trace: ->(line) { trace << line }) }
  let(:github) { sim::Github.new(clock: clock, random: random, trace: ->(line) { trace << line }) }
  let(:operator) do
    sim::OperatorUnderTest.new(server: server, github: github, clock: clock, random: random, github_rate: 10,
                               github_burst: 10)
  end
  let(:key) { StatsTracker::Operator::Controller::ObjectKey.new(:project, "ns", "apps") }

  before do
    github.add_owner("acme", %w[a b c d e])
    server.create("projects", { apiVersion: sim::ApiServer::GROUP_VERSION, kind: "Project",
                                metadata: { name: "apps", namespace: "ns" }, spec: { owner: "acme", interval: "1h" } })
    operator.informers.each { |plural, informer| informer.load(*server.list(plural)) }
    run_for(30)
  end

  # What the informers and workers do, on simulated time.
  def run_for(seconds)
    deadline = clock.now + seconds
    while clock.now < deadline
      server.deliver_due.each do |plural, kind, payload|
        kind == :list ? operator.informers.fetch(plural).load(*payload) : operator.informers.fetch(plural).dispatch(payload)
      end
      while (k = operator.queue.get(timeout: 0))
        operator.reconcile(k)
        operator.queue.done(k)
      end
      clock.advance(0.25)
    end
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
