# frozen_string_literal: true

RSpec.describe "Finalizers", kube: true do
  include StatsTracker::Testing::Kube::WidgetFixture

  let(:finalizer) { "harness.stats-tracker.dev/cleanup" }

  before do
    install_widget_crd
    create_widget("held", finalizers: [finalizer])
  end

  it "keep a deleted object, marked with deletionTimestamp, until the last finalizer is removed" do
    widgets.delete_entity("widgets", "held", namespace)

    held = get_widget("held")
    expect(held.dig("metadata", "deletionTimestamp")).not_to be_nil
    expect(held.dig("metadata", "finalizers")).to eq([finalizer])

    widgets.patch_entity("widgets", "held",
                         [{ op: "test", path: "/metadata/finalizers/0", value: finalizer },
                          { op: "remove", path: "/metadata/finalizers/0" }],
                         "json-patch", namespace)

    expect { get_widget("held") }.to raise_error(Kubeclient::ResourceNotFoundError)
  end

  it "refuse new finalizers once deletion has started" do
    widgets.delete_entity("widgets", "held", namespace)

    expect do
      widgets.patch_entity("widgets", "held", { metadata: { finalizers: [finalizer, "example.com/late"] } },
                           "merge-patch", namespace)
    end.to raise_error(Kubeclient::HttpError) { |e| expect(e.error_code).to eq(422) }
  end
end
