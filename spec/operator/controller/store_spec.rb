# frozen_string_literal: true

require_relative "../support/load_path"
require "stats_tracker/operator/controller/store"

RSpec.describe StatsTracker::Operator::Controller::Store do
  def obj(name, rv) = { metadata: { namespace: "ns", name: name, resourceVersion: rv } }

  it "reports what a relist changed and removed" do
    store = described_class.new
    store.put(obj("a", "1"))
    store.put(obj("b", "1"))
    changed, removed = store.replace([obj("a", "1"), obj("c", "5")])
    expect(changed.map { |o| o.dig(:metadata, :name) }).to eq(["c"])
    expect(removed.map { |o| o.dig(:metadata, :name) }).to eq(["b"])
    expect(store.keys).to contain_exactly("ns/a", "ns/c")
    expect(store.get("ns/a")).to be_frozen
  end
end
