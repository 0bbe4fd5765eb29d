# frozen_string_literal: true

# These need kube-controller-manager: envtest's bare apiserver would keep every dependent forever.
RSpec.describe "Garbage collection of owned objects", kube: true do
  include StatsTracker::Testing::Kube::WidgetFixture

  # The garbage collector rediscovers resource types every 30 s, so a CRD created moments ago can
  # take that long to be watched; the deadline bounds a hang, it does not measure speed.
  let(:gc_deadline) { 120 }

  before do
    install_widget_crd
    @owner = create_widget("owner")
    owner_ref = { apiVersion: widget_api_version, kind: "Widget", name: "owner", uid: @owner.metadata.uid,
                  controller: true, blockOwnerDeletion: true }
    create_widget("child", ownerReferences: [owner_ref])
    kube.client.create_config_map(
      Kubeclient::Resource.new(metadata: { name: "child-config", namespace: namespace, ownerReferences: [owner_ref] },
                               data: { "k" => "v" })
    )
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

  # Until the collector watches a just-created kind it does not know the owner's Widget
  # dependents and may remove a foreground-deleted owner first (seen in a full CI run).
  # A canary pair, collected once the kind is watched, proves it is before the real assertion.
  def wait_until_collector_watches_widgets
    canary = create_widget("canary-owner")
    create_widget("canary-child", ownerReferences: [{ apiVersion: widget_api_version, kind: "Widget",
                                                      name: "canary-owner", uid: canary.metadata.uid }])
    widgets.delete_entity("widgets", "canary-owner", namespace)
    StatsTracker::Testing::Kube::Wait.until("collector to watch widgets", timeout: gc_deadline, interval: 0.5) do
      gone? { get_widget("canary-child") }
    end
  end

  it "keeps a foreground-deleted owner until its blocking dependents are gone" do
    wait_until_collector_watches_widgets
    widgets.delete_entity("widgets", "owner", namespace, delete_options: { propagationPolicy: "Foreground" })

    expect(get_widget("owner").dig("metadata", "finalizers")).to include("foregroundDeletion")
    StatsTracker::Testing::Kube::Wait.until("owner to be deleted last", timeout: gc_deadline, interval: 0.5) do
      gone? { get_widget("owner") }
    end
    expect(dependents_gone?).to be(true)
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
