# frozen_string_literal: true

require_relative "../support/operator_harness"

# The resourceVersion preconditions of the operator's writes, against the real kube-apiserver:
# it refuses a write based on a version that is no longer current (409), and the operator then
# re-reads instead of overwriting what was written since.
RSpec.describe "operator writes on condition of the version read", kube: true do
  include StatsTracker::Testing::OperatorHarness

  controller = StatsTracker::Operator::Controller

  before { install_crds }

  let(:logger) { StatsTracker::Operator::Log.new(io: StringIO.new) }
  let(:metrics) { controller::Metrics.new.tap { |m| controller::WriteConflicts.register_metrics(m) } }
  let(:store) { controller::Store.new }
  let(:queue) { controller::WorkQueue.new }
  # The operator's own client (its field manager), beside the harness's "spec-user" one.
  let(:operator_leaves) do
    StatsTracker::Operator::Kube::ResourceApi.new(connection: connection, kind: "Leaf", plural: "leaves", group: "stats-tracker.dev",
                                                  version: "v1alpha1", field_manager: "stats-tracker")
  end
  let(:handler) do
    controller::OutcomeHandler.new(api: operator_leaves, store: store, queue: queue, events: nil, logger: logger,
                                   kind: :leaf, on_rate_limited: ->(_seconds) {},
                                   conflicts: controller::WriteConflicts.new(metrics: metrics, logger: logger))
  end

  def create_leaf(name)
    api_for("leaves").apply({ apiVersion: "stats-tracker.dev/v1alpha1", kind: "Leaf", metadata: { name: name, namespace: namespace },
                              spec: { owner: "fluxcd", ownerType: "org", package: name, interval: "1h" } })
  end

  it "refuses a status based on a version written since; the handler re-reads, and nothing is lost" do
    read = handler.write_status(create_leaf("flagger").tap { |l| store.put(l) }, { observedGeneration: 1, downloadCount: 1 })
    # Another writer (the replica that leads now, say) writes after this one read.
    api_for("leaves").apply_status(name: "flagger", namespace: namespace, status: { downloadCount: 2 })

    expect(handler.write_status(read, { observedGeneration: 1, downloadCount: 3 })).to be_nil
    expect(leaf("flagger").dig(:status, :downloadCount)).to eq(2)
    expect(store.get("#{namespace}/flagger").dig(:metadata, :resourceVersion))
      .to eq(leaf("flagger").dig(:metadata, :resourceVersion))
    expect(queue.get(timeout: 0)).to eq(controller::ObjectKey.new(:leaf, namespace, "flagger"))
    expect(metrics.value(controller::WriteConflicts::METRIC, resource: "leaves")).to eq(1)

    # Decided again on the version re-read, the write goes through.
    written = handler.write_status(store.get("#{namespace}/flagger"), { observedGeneration: 1, downloadCount: 3 })
    expect(written.dig(:status, :downloadCount)).to eq(3)
    expect(leaf("flagger").dig(:status, :downloadCount)).to eq(3)
  end

  it "creates a Leaf with the create-only resourceVersion once, and refuses it when the Leaf exists" do
    body = { apiVersion: "stats-tracker.dev/v1alpha1", kind: "Leaf",
             metadata: { name: "flagger-arm64", namespace: namespace,
                         resourceVersion: StatsTracker::Operator::ProjectController::CREATE_ONLY },
             spec: { owner: "fluxcd", ownerType: "org", package: "flagger-arm64", interval: "1h" } }
    created = operator_leaves.apply(body)
    expect(created.dig(:metadata, :resourceVersion)).not_to eq(StatsTracker::Operator::ProjectController::CREATE_ONLY)
    expect { operator_leaves.apply(body.merge(spec: body[:spec].merge(interval: "2h"))) }
      .to raise_error(Kubeclient::HttpError) { |e| expect(e.error_code).to eq(409) }
    expect(leaf("flagger-arm64").dig(:spec, :interval)).to eq("1h")
  end

  it "refuses an apply and a delete based on a version written since" do
    read = create_leaf("flux-cli")
    api_for("leaves").apply_status(name: "flux-cli", namespace: namespace, status: { downloadCount: 5 })
    meta = read[:metadata]
    stale_apply = { apiVersion: "stats-tracker.dev/v1alpha1", kind: "Leaf",
                    metadata: { name: "flux-cli", namespace: namespace, resourceVersion: meta[:resourceVersion] },
                    spec: { interval: "2h" } }
    expect { operator_leaves.apply(stale_apply) }.to raise_error(Kubeclient::HttpError) { |e| expect(e.error_code).to eq(409) }
    expect do
      operator_leaves.delete("flux-cli", namespace, uid: meta[:uid], resource_version: meta[:resourceVersion])
    end.to raise_error(Kubeclient::HttpError) { |e| expect(e.error_code).to eq(409) }
    expect(leaf("flux-cli").dig(:spec, :interval)).to eq("1h")

    fresh = leaf("flux-cli")[:metadata]
    expect(operator_leaves.delete("flux-cli", namespace, uid: fresh[:uid], resource_version: fresh[:resourceVersion])).to be(true)
  end
end
