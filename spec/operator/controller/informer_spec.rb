# frozen_string_literal: true

require_relative "../simulation/world"

# The informer's cache and handler calls, fed lists and notices from the simulated API server
# (no thread, no watch stream).
RSpec.describe StatsTracker::Operator::Controller::Informer do
  sim = StatsTracker::Simulation

  let(:clock) { sim::Clock.new }
  let(:server) { sim::ApiServer.new(clock: clock, random: Random.new(1), trace: ->(_line) {}) }
  let(:calls) { [] }
  let(:informer) do
    described_class.new(api: server.resource("leaves"), logger: StatsTracker::Operator::Log.new(io: StringIO.new),
                        stop: StatsTracker::Operator::Controller::StopSignal.new,
                        handler: ->(type, object, previous) { calls << [type, object.dig(:metadata, :name), previous&.dig(:spec, :n)] })
  end

  def leaf(name, n)
    { apiVersion: "stats-tracker.dev/v1alpha1", kind: "Leaf", metadata: { name: name, namespace: "ns" }, spec: { n: n } }
  end

  def deliver
    clock.advance(60)
    server.deliver_due.each { |_plural, _kind, notice| informer.dispatch(notice) }
  end

  it "fills its cache from a list, then from notices, telling the handler what each replaced" do
    server.create("leaves", leaf("a", 1))
    server.reset_watches
    informer.load(*server.list("leaves"))
    expect(calls).to eq([[:upsert, "a", nil]])
    expect(informer).to be_synced

    server.edit_spec("leaves", "ns/a", n: 2)
    server.create("leaves", leaf("b", 1))
    server.user_delete("leaves", "ns/a")
    deliver
    expect(calls.drop(1)).to eq([[:upsert, "a", 1], [:upsert, "b", nil], [:delete, "a", nil]])
    expect(informer.store.keys).to eq(["ns/b"])
  end

  it "on a relist, reports only what changed and what went away" do
    %w[a b].each { |n| server.create("leaves", leaf(n, 1)) }
    server.reset_watches
    informer.load(*server.list("leaves"))
    server.edit_spec("leaves", "ns/a", n: 2)
    server.user_delete("leaves", "ns/b")
    calls.clear
    informer.load(*server.list("leaves"))
    expect(calls).to contain_exactly([:upsert, "a", nil], [:delete, "b", nil])
    expect(informer.lists).to eq(2)
  end

  it "refuses a list from a lagging API server, older than what it has seen: nothing deleted comes back" do
    server.create("leaves", leaf("a", 1))
    server.reset_watches
    informer.load(*server.list("leaves"))
    stale = server.list("leaves")
    server.user_delete("leaves", "ns/a")
    server.create("leaves", leaf("b", 1))
    deliver
    calls.clear
    expect { informer.load(*stale) }.to raise_error(described_class::StaleList, /older than/)
    expect(informer.store.keys).to eq(["ns/b"])
    expect(calls).to eq([])
  end
end
