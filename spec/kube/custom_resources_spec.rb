# frozen_string_literal: true

RSpec.describe "Custom resources on the test cluster", kube: true do
  include StatsTracker::Testing::Kube::WidgetFixture

  before { install_widget_crd }

  it "installs a CRD that becomes Established and is served by discovery" do
    crd = kube.wait_for_crd(widget_crd_name)

    conditions = crd.dig("status", "conditions").to_h { |c| [c["type"], c["status"]] }
    expect(conditions).to include("Established" => "True", "NamesAccepted" => "True")
    resources = kube.connection.get("/apis/#{widget_group}/#{widget_version}").json["resources"].map { |r| r["name"] }
    expect(resources).to include("widgets", "widgets/status")
  end

  it "round-trips a custom resource through etcd" do
    create_widget("round-trip", spec: { size: 3, color: "blue", labels: %w[a b] })

    stored = get_widget("round-trip")
    expect(stored["spec"]).to eq("size" => 3, "color" => "blue", "labels" => %w[a b])
    expect(stored["metadata"]).to include("uid", "resourceVersion", "generation" => 1)
    listed = widgets.get_entities("Widget", "widgets", namespace: namespace, as: :parsed)
    expect(listed["items"].map { |w| w.dig("metadata", "name") }).to eq(["round-trip"])
  end

  it "rejects a resource that breaks the structural schema with 422" do
    expect { create_widget("bad", spec: { size: -1 }) }
      .to raise_error(Kubeclient::HttpError) { |e| expect([e.error_code, e.message]).to match([422, /spec.size/]) }
  end
end
