# frozen_string_literal: true

RSpec.describe "Restarting the control plane mid-test", kube: true do
  include StatsTracker::Testing::Kube::WidgetFixture

  before { install_widget_crd }

  it "keeps data across an apiserver restart" do
    created = create_widget("survivor", spec: { size: 4, color: "teal" })

    kube.restart_apiserver

    stored = get_widget("survivor")
    expect(stored.dig("metadata", "uid")).to eq(created.metadata.uid)
    expect(stored["spec"]).to eq("size" => 4, "color" => "teal")
  end

  it "keeps data across an etcd and apiserver restart (state is on disk)" do
    created = create_widget("durable")

    kube.restart_apiserver(with_etcd: true)

    expect(get_widget("durable").dig("metadata", "uid")).to eq(created.metadata.uid)
  end

  it "refuses connections while the apiserver is stopped, and serves again after start" do
    kube.stop_apiserver
    begin
      expect { widgets.get_entities("Widget", "widgets", namespace: namespace) }.to raise_error(Errno::ECONNREFUSED)
    ensure
      kube.start_apiserver
    end

    expect(widgets.get_entities("Widget", "widgets", namespace: namespace, as: :parsed)["items"]).to eq([])
  end

  # A watch cache rebuilt by the restart starts after the saved resourceVersion, so that version has
  # expired. kubeclient 4.9.3 does not raise: the server answers 200 and sends one ERROR notice
  # carrying a Status with code 410, then ends the stream. (The operator uses its own watch client.)
  it "answers a watch from a resourceVersion that expired with an ERROR notice carrying 410 Gone" do
    create_widget("old")
    expired = get_widget("old").dig("metadata", "resourceVersion")
    widgets.patch_entity("widgets", "old", { spec: { size: 2 } }, "merge-patch", namespace)
    kube.restart_apiserver

    notices = []
    widgets.watch_entities("widgets", namespace: namespace, resource_version: expired, as: :parsed)
           .each { |notice| notices << notice } # returns when the server closes the stream

    expect(notices.size).to eq(1)
    expect(notices.first["type"]).to eq("ERROR")
    expect(notices.first["object"]).to include("kind" => "Status", "code" => 410)
    expect(notices.first.dig("object", "reason")).to eq("Expired").or eq("Gone")
  end
end
