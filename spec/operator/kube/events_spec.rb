# frozen_string_literal: true

require_relative "../simulation/world"

RSpec.describe StatsTracker::Operator::Kube::Events do
  let(:now) { [0.0] }
  let(:sink) { StatsTracker::Simulation::ApiServer::EventSink.new }
  let(:events) do
    described_class.new(api: sink, controller: "stats-tracker.dev/operator", instance: "pod-1",
                        logger: StatsTracker::Operator::Log.new(io: StringIO.new), dedupe_window: 300, clock: -> { now[0] })
  end
  let(:leaf) { { apiVersion: "stats-tracker.dev/v1alpha1", kind: "Leaf", metadata: { name: "a", namespace: "ns", uid: "u1" } } }

  it "records an event once per object, reason and note within the window, then again" do
    3.times { events.record(leaf, type: "Warning", reason: "RateLimited", note: "429") }
    events.record(leaf, type: "Warning", reason: "NotFound", note: "404")
    expect(sink.count).to eq(2)
    now[0] += 301
    events.record(leaf, type: "Warning", reason: "RateLimited", note: "429")
    expect(sink.count).to eq(3)
  end
end
