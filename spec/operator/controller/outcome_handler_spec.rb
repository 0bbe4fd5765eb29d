# frozen_string_literal: true

require_relative "../simulation/world"

# The shared write_status/record/schedule path, against the simulated API server and clock.
RSpec.describe StatsTracker::Operator::Controller::OutcomeHandler do
  sim = StatsTracker::Simulation
  reconcilers = StatsTracker::Operator::Reconcilers

  let(:clock) { sim::Clock.new }
  let(:server) { sim::ApiServer.new(clock: clock, random: Random.new(1), trace: ->(_line) {}) }
  let(:store) { StatsTracker::Operator::Controller::Store.new }
  let(:queue) do
    StatsTracker::Operator::Controller::WorkQueue.new(backoff: StatsTracker::Backoff.new(random: Random.new(2)),
                                                      clock: -> { clock.monotonic })
  end
  let(:pauses) { [] }
  let(:written) { [] }
  let(:metrics) do
    StatsTracker::Operator::Controller::Metrics.new.tap do |m|
      StatsTracker::Operator::Controller::WriteConflicts.register_metrics(m)
    end
  end
  let(:handler) do
    logger = StatsTracker::Operator::Log.new(io: StringIO.new)
    described_class.new(api: server.resource("leaves"), store: store, queue: queue, events: server.events,
                        logger: logger, kind: :leaf, on_rate_limited: ->(s) { pauses << s },
                        conflicts: StatsTracker::Operator::Controller::WriteConflicts.new(metrics: metrics, logger: logger),
                        on_written: ->(o) { written << o })
  end
  let(:key) { StatsTracker::Operator::Controller::ObjectKey.new(:leaf, "ns", "a") }
  let(:leaf) do
    server.create("leaves", { apiVersion: "stats-tracker.dev/v1alpha1", kind: "Leaf",
                              metadata: { name: "a", namespace: "ns" }, spec: { interval: "1h" } }).tap { |l| store.put(l) }
  end

  it "writes a status only when it changed, and returns the object as cached" do
    first = handler.write_status(leaf, { downloadCount: 5 })
    expect(first.dig(:status, :downloadCount)).to eq(5)
    expect(store.get("ns/a")).to eq(first)
    expect(handler.write_status(first, { downloadCount: 5 })).to equal(first)
    expect(server.writes[%w[leaves ns/a]].size).to eq(1)
    expect(written.size).to eq(1)
  end

  it "writes on condition that the object is still the version read" do
    handler.write_status(leaf, { downloadCount: 5 })
    expect(server.writes[%w[leaves ns/a]].size).to eq(1)
    server.apply_status("leaves", "a", "ns", { downloadCount: 7 })
    expect(handler.write_status(leaf, { downloadCount: 6 })).to be_nil
    expect(server.get("leaves", "ns/a").dig(:status, :downloadCount)).to eq(7)
  end

  # Someone wrote the object since it was read (here a user's requestedAt, unseen by the cache):
  # the status is not forced over it; the object is re-read and decided again, and the conflict
  # is counted, not failed.
  it "on a conflict, re-reads the object into the cache and queues it, losing nothing" do
    cached = leaf
    server.annotate("leaves", "ns/a", StatsTracker::Operator::Reconcilers::Schedule::REQUESTED_AT, "t1")
    expect(handler.write_status(cached, { downloadCount: 5 })).to be_nil
    expect(server.get("leaves", "ns/a").dig(:metadata, :annotations).values).to eq(["t1"])
    expect(store.get("ns/a").dig(:metadata, :resourceVersion)).to eq(server.get("leaves", "ns/a").dig(:metadata, :resourceVersion))
    expect(queue.get(timeout: 0)).to eq(key)
    expect(metrics.value("stats_tracker_write_conflicts_total", resource: "leaves")).to eq(1)
    expect(queue.failures(key)).to eq(0)
  end

  it "tells the owner when the re-read object carries another writer's status" do
    cached = leaf
    server.apply_status("leaves", "a", "ns", { downloadCount: 7 })
    handler.write_status(cached, { downloadCount: 5 })
    expect(written.map { |o| o.dig(:status, :downloadCount) }).to eq([7])
  end

  it "pauses GitHub on a 429 without Retry-After too" do
    failure = reconcilers::Failure.new(reason: "RateLimited", message: "429")
    expect(handler.schedule(key, leaf, reconcilers::Outcome.new(failure: failure))).to eq(:error)
    expect(pauses).to eq([described_class::RATE_LIMIT_PAUSE])
  end

  it "caps a failing object's backoff at a fraction of its interval, not at five minutes" do
    failure = reconcilers::Failure.new(reason: "FetchFailed", message: "500")
    12.times { handler.schedule(key, leaf, reconcilers::Outcome.new(failure: failure)) }
    _reason, left = queue.next_due(key)
    expect(left).to be_between(450, 900)
  end

  it "schedules a wait for the GitHub budget as its own reason, keeping the retry and the failure count" do
    failure = reconcilers::Failure.new(reason: "FetchFailed", message: "500")
    handler.schedule(key, leaf, reconcilers::Outcome.new(failure: failure))
    expect(handler.schedule(key, leaf, reconcilers::Outcome.new(requeue_after: 0.5, waiting: true))).to eq(:waiting)
    expect(queue.next_due(key)).to eq([:github_budget, 0.5])
    expect(queue.pending(key, :retry)).to be_positive
    expect(queue.failures(key)).to eq(1)
  end

  it "keeps a stalled object's retry at its interval when it is re-run sooner" do
    failure = reconcilers::Failure.new(reason: "LoginRequired", message: "sign-in page", stalled: true)
    handler.schedule(key, leaf, reconcilers::Outcome.new(failure: failure))
    queue.add_after(key, 1, reason: :aggregate)
    clock.advance(1)
    expect(queue.get(timeout: 0)).to eq(key)
    queue.done(key)
    expect(queue.next_due(key)).to eq([:retry, 3599.0])
  end
end
