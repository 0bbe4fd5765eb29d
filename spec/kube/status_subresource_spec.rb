# frozen_string_literal: true

RSpec.describe "The status subresource", kube: true do
  include StatsTracker::Testing::Kube::WidgetFixture

  before do
    install_widget_crd
    create_widget("w", spec: { size: 1, color: "red" })
  end

  it "ignores status changes sent to the main resource, and bumps generation for spec changes" do
    widgets.patch_entity("widgets", "w", { spec: { size: 5 }, status: { phase: "Ready" } }, "merge-patch", namespace)

    stored = get_widget("w")
    expect(stored.dig("spec", "size")).to eq(5)
    expect(stored["status"]).to be_nil
    expect(stored.dig("metadata", "generation")).to eq(2)
  end

  it "ignores spec changes sent to /status, and leaves generation alone" do
    widgets.patch_entity("widgets", "w/status", { spec: { size: 99 }, status: { phase: "Ready", observedGeneration: 1 } },
                         "merge-patch", namespace)

    stored = get_widget("w")
    expect(stored["status"]).to eq("phase" => "Ready", "observedGeneration" => 1)
    expect(stored.dig("spec", "size")).to eq(1)
    expect(stored.dig("metadata", "generation")).to eq(1)
  end
end
