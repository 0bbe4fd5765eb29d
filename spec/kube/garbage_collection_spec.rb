# frozen_string_literal: true

# These need kube-controller-manager: envtest's bare apiserver would keep every dependent forever.
RSpec.describe "Garbage collection of owned objects", kube: true do
  include StatsTracker::Testing::Kube::WidgetFixture

  # The garbage collector rediscovers resource types every 30 s, so a CRD created moments ago can
  # take that long to be watched; the deadline bounds a hang, it does not measure speed.
  let(:gc_deadline) { 120 }

  def owner_ref(owner, blocking: true)
    { apiVersion: widget_api_version, kind: "Widget", name: owner.metadata.name, uid: owner.metadata.uid,
      controller: true, blockOwnerDeletion: blocking }
  end

  def create_owned_config_map(name, owner)
    kube.client.create_config_map(
      Kubeclient::Resource.new(metadata: { name: name, namespace: namespace, ownerReferences: [owner_ref(owner)] },
                               data: { "k" => "v" })
    )
  end

  # A finalizer of the test's own keeps a dependent in the graph until the example lets it go, so
  # the foreground order is observed while it holds rather than raced against a fast collector.
  def hold_finalizer = "harness.stats-tracker.dev/hold"

  before do |example|
    install_widget_crd
    owner = create_widget("owner")
    create_widget("child", ownerReferences: [owner_ref(owner)])
    create_owned_config_map("child-config", owner)
    create_widget("held-child", ownerReferences: [owner_ref(owner)], finalizers: [hold_finalizer]) if example.metadata[:hold]
    wait_until_collector_knows_the_dependents
  end

  after { |example| release_held_child if example.metadata[:hold] }

  def release_held_child
    widgets.patch_entity("widgets", "held-child", { metadata: { finalizers: nil } }, "merge-patch", namespace)
  rescue Kubeclient::ResourceNotFoundError
    nil
  end

  # The collector acts on its own graph, fed by one informer per kind. Until that graph holds
  # the dependents, a Foreground delete can drop the owner first and an Orphan delete can skip a
  # dependent's owner reference (both seen in CI). Informers deliver in watch order into one
  # queue, so once the collector has removed a canary child of each kind, created *after* the
  # real dependents, it has also seen the real ones.
  def wait_until_collector_knows_the_dependents
    canary = create_widget("canary-owner")
    create_widget("canary-child", ownerReferences: [owner_ref(canary, blocking: false)])
    create_owned_config_map("canary-config", canary)
    widgets.delete_entity("widgets", "canary-owner", namespace)
    StatsTracker::Testing::Kube::Wait.until("collector to see both kinds", timeout: gc_deadline, interval: 0.5) do
      gone? { get_widget("canary-child") } && gone? { kube.client.get_config_map("canary-config", namespace) }
    end
  end

  def gone?(&get)
    get.call
    false
  rescue Kubeclient::ResourceNotFoundError
    true
  end

  def dependents_gone?
    gone? { get_widget("child") } && gone? { kube.client.get_config_map("child-config", namespace) }
  end

  it "deletes the dependents (custom and core kinds) after the owner is deleted" do
    widgets.delete_entity("widgets", "owner", namespace)

    StatsTracker::Testing::Kube::Wait.until("dependents to be collected", timeout: gc_deadline, interval: 0.5) do
      dependents_gone?
    end
    expect(dependents_gone?).to be(true)
  end

  it "keeps a foreground-deleted owner until its blocking dependents are gone", hold: true do
    widgets.delete_entity("widgets", "owner", namespace, delete_options: { propagationPolicy: "Foreground" })

    StatsTracker::Testing::Kube::Wait.until("collector to delete the held dependent", timeout: gc_deadline,
                                                                                      interval: 0.5) do
      get_widget("held-child").dig("metadata", "deletionTimestamp")
    end
    expect(get_widget("owner").dig("metadata", "finalizers")).to include("foregroundDeletion")

    release_held_child
    StatsTracker::Testing::Kube::Wait.until("owner to be deleted last", timeout: gc_deadline, interval: 0.5) do
      gone? { get_widget("owner") }
    end
    expect(dependents_gone?).to be(true)
    expect(gone? { get_widget("held-child") }).to be(true)
  end

  it "orphans the dependents when asked to, removing only the owner reference" do
    widgets.delete_entity("widgets", "owner", namespace, delete_options: { propagationPolicy: "Orphan" })

    StatsTracker::Testing::Kube::Wait.until("owner to be deleted", timeout: gc_deadline, interval: 0.5) do
      gone? { get_widget("owner") }
    end
    expect(get_widget("child").dig("metadata", "ownerReferences")).to be_nil
    expect(kube.client.get_config_map("child-config", namespace).metadata.ownerReferences).to be_nil
  end
end
