# frozen_string_literal: true

RSpec.describe "Server-side apply from kubeclient", kube: true do
  include StatsTracker::Testing::Kube::WidgetFixture

  before { install_widget_crd }

  # apply_entity serialises with to_json, so the resource must be a plain Hash (see operator-anchors a).
  def apply(manager, spec, force:)
    widgets.apply_entity("widgets", widget("ssa", spec: spec), field_manager: manager, force: force)
  end

  def managers_of(field)
    get_widget("ssa").dig("metadata", "managedFields")
                     .select { |m| m.dig("fieldsV1", "f:spec")&.key?("f:#{field}") }
                     .map { |m| [m["manager"], m["operation"]] }
  end

  it "records the field manager of an apply PATCH (application/apply-patch+yaml)" do
    apply("alice", { size: 2, color: "red" }, force: false)

    expect(get_widget("ssa")["spec"]).to eq("size" => 2, "color" => "red")
    expect(managers_of("color")).to eq([%w[alice Apply]])
  end

  it "answers 409 Conflict when another manager changes an owned field without force" do
    apply("alice", { size: 2, color: "red" }, force: false)

    expect { apply("bob", { color: "green" }, force: false) }
      .to raise_error(Kubeclient::HttpError) { |e| expect([e.error_code, e.message]).to match([409, /alice/]) }
    expect(get_widget("ssa").dig("spec", "color")).to eq("red")
  end

  it "lets a forced apply take the field over" do
    apply("alice", { size: 2, color: "red" }, force: false)

    apply("bob", { color: "green" }, force: true)

    expect(get_widget("ssa")["spec"]).to eq("size" => 2, "color" => "green")
    expect(managers_of("color")).to eq([%w[bob Apply]])
    expect(managers_of("size")).to eq([%w[alice Apply]])
  end

  it "keeps conditions owned per type on /status (list-map), for two managers" do
    apply("alice", { size: 1 }, force: false)
    status_path = "/apis/#{widget_api_version}/namespaces/#{namespace}/widgets/ssa/status"
    %w[Ready Synced].each do |type|
      body = { apiVersion: widget_api_version, kind: "Widget", metadata: { name: "ssa", namespace: namespace },
               status: { conditions: [{ type: type, status: "True" }] } }
      res = kube.connection.apply("#{status_path}?fieldManager=#{type.downcase}-controller", body)
      expect(res.status).to eq(200), res.body
    end

    conditions = get_widget("ssa").dig("status", "conditions")
    expect(conditions).to contain_exactly({ "type" => "Ready", "status" => "True" }, { "type" => "Synced", "status" => "True" })
  end
end
