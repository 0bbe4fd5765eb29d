# frozen_string_literal: true

require "stats_tracker/error"
require "stats_tracker/operator/controller/kind_controller"
require "stats_tracker/operator/controller/work_queue"
require "stats_tracker/operator/controller/store"

RSpec.describe StatsTracker::Operator::Controller::KindController do
  key_class = StatsTracker::Operator::Controller::ObjectKey

  let(:now) { [0.0] }
  let(:queue) { StatsTracker::Operator::Controller::WorkQueue.new(clock: -> { now[0] }) }
  let(:store) { StatsTracker::Operator::Controller::Store.new }
  let(:step) do
    Class.new do
      attr_reader :seen, :forgotten

      def reconcile(key, object) = ((@seen ||= []) << [key.to_s, object.dig(:metadata, :name)]) && :success
      def forget(object) = (@forgotten ||= []) << object.dig(:metadata, :name)
    end.new
  end
  let(:projects) { described_class.new(:project, plural: "projects", store: store).owns("leaves", delay: 1.0).run(step, queue: queue) }

  def project(generation: 1, status: {}, token: nil)
    { metadata: { name: "p", namespace: "ns", uid: "u", generation: generation,
                  annotations: token ? { "reconcile.fluxcd.io/requestedAt": token } : {} },
      spec: {}, status: status }
  end

  def leaf(status)
    { metadata: { name: "l", namespace: "ns", ownerReferences: [{ kind: "Project", name: "p", controller: true }] },
      status: status }
  end

  it "queues new objects, generations and requestedAt tokens, not status-only changes" do
    projects.on_event(:upsert, project, nil)
    expect(queue.get(timeout: 0)).to eq(key_class.new(:project, "ns", "p"))
    queue.done(key_class.new(:project, "ns", "p"))
    projects.on_event(:upsert, project(status: { n: 2 }), project)
    expect(queue.get(timeout: 0)).to be_nil
    projects.on_event(:upsert, project(token: "t1"), project)
    projects.on_event(:upsert, project(generation: 2), project)
    expect(queue.depth).to eq(1)
  end

  it "re-runs the owner of an owned object whose status changed, as an aggregate, after the delay" do
    leaves = projects.handler_for("leaves")
    leaves.call(:upsert, leaf({ n: 1 }), leaf({ n: 1 }))
    expect(queue.next_due(key_class.new(:project, "ns", "p"))).to be_nil
    leaves.call(:upsert, leaf({ n: 2 }), leaf({ n: 1 }))
    expect(queue.next_due(key_class.new(:project, "ns", "p"))).to eq([:aggregate, 1.0])
    other = leaf({ n: 3 }).tap { |l| l[:metadata][:ownerReferences][0][:kind] = "Leaf" }
    leaves.call(:upsert, other, leaf({ n: 2 }))
    expect(queue.scheduled).to eq(1)
  end

  it "maps events of a watched kind to keys of its own kind, as the mapper names them" do
    secret = { metadata: { name: "token", namespace: "ns" } }
    named = []
    watching = described_class.new(:project, plural: "projects", store: store)
                              .watches("secrets", filter: ->(type, _object, _previous) { type != :delete }) do |object|
                                named << object.dig(:metadata, :name)
                                [%w[ns p], %w[ns q]]
                              end.run(step, queue: queue)
    expect(watching.handler_for("leaves")).to be_nil
    watching.handler_for("secrets").call(:delete, secret, nil)
    expect(queue.depth).to eq(0)
    watching.handler_for("secrets").call(:upsert, secret, nil)
    expect(named).to eq(["token"])
    keys = Array.new(2) { queue.get(timeout: 0).tap { |k| queue.done(k) } }
    expect(keys).to contain_exactly(key_class.new(:project, "ns", "p"), key_class.new(:project, "ns", "q"))
    expect { described_class.new(:project, plural: "projects", store: store).watches("secrets") }
      .to raise_error(ArgumentError)
  end

  it "hands its own kind's events and the kinds it watches to one handler per plural" do
    own = projects.handler_for("projects")
    own.call(:upsert, project, nil)
    expect(queue.depth).to eq(1)
    expect(projects.handler_for("secrets")).to be_nil
  end

  it "hands the cached object to its step, and tells the step what was deleted" do
    store.put(project)
    expect(projects.reconcile(key_class.new(:project, "ns", "p"))).to eq(:success)
    expect(projects.reconcile(key_class.new(:project, "ns", "gone"))).to eq(:gone)
    projects.on_event(:delete, project, nil)
    expect([step.seen, step.forgotten]).to eq([[["project:ns/p", "p"]], ["p"]])
  end
end
