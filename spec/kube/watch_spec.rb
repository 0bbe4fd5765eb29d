# frozen_string_literal: true

RSpec.describe "Watching custom resources with kubeclient", kube: true do
  include StatsTracker::Testing::Kube::WidgetFixture

  before { install_widget_crd }

  # Runs the watch on its own thread (WatchStream#each blocks) and collects notices until `count`.
  def collect_notices(resource_version:, count:)
    watcher = widgets.watch_entities("widgets", namespace: namespace, resource_version: resource_version, as: :parsed)
    notices = Queue.new
    reader = Thread.new { watcher.each { |notice| notices << notice } }
    yield if block_given?
    StatsTracker::Testing::Kube::Wait.until("#{count} watch notices", timeout: 30) { notices.size >= count }
    Array.new(notices.size) { notices.pop }
  ensure
    watcher&.finish
    reader&.join(5)
  end

  it "delivers ADDED, MODIFIED and DELETED after the resourceVersion it starts from" do
    create_widget("before-watch")
    from = widgets.get_entities("Widget", "widgets", namespace: namespace, as: :parsed).dig("metadata", "resourceVersion")

    notices = collect_notices(resource_version: from, count: 3) do
      create_widget("watched")
      widgets.patch_entity("widgets", "watched", { spec: { size: 7 } }, "merge-patch", namespace)
      widgets.delete_entity("widgets", "watched", namespace)
    end

    expect(notices.map { |n| [n["type"], n.dig("object", "metadata", "name")] })
      .to eq([%w[ADDED watched], %w[MODIFIED watched], %w[DELETED watched]])
    expect(notices[1].dig("object", "spec", "size")).to eq(7)
  end

  it "replays events that happened between the list and the watch" do
    from = widgets.get_entities("Widget", "widgets", namespace: namespace, as: :parsed).dig("metadata", "resourceVersion")
    create_widget("missed-while-not-watching")

    notices = collect_notices(resource_version: from, count: 1)

    expect(notices.map { |n| [n["type"], n.dig("object", "metadata", "name")] })
      .to eq([%w[ADDED missed-while-not-watching]])
  end
end
