# frozen_string_literal: true

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

RSpec.describe StatsTracker::Operator::Controller::Store, "ordering" do
  def obj(name, rv, count = nil) = { metadata: { namespace: "ns", name: name, resourceVersion: rv }, status: { n: count } }

  it "never lets an older resourceVersion replace a newer one" do
    store = described_class.new
    store.put(obj("a", "120", :from_watch))
    expect(store.put(obj("a", "99", :late_response))).to be(false)
    expect(store.get("ns/a").dig(:status, :n)).to eq(:from_watch)
    expect(store.put(obj("a", "1000", :newer))).to be(true) # numeric, not string, order
    expect(store.get("ns/a").dig(:status, :n)).to eq(:newer)
  end

  it "keeps a newer cached object, and one created after the list, when a relist brings an older view" do
    store = described_class.new
    store.put(obj("a", "50", :written))
    store.put(obj("new", "60"))
    changed, removed = store.replace([obj("a", "40", :listed)], version: "45")
    expect(store.get("ns/a").dig(:status, :n)).to eq(:written)
    expect(store.keys).to contain_exactly("ns/a", "ns/new")
    expect([changed, removed]).to eq([[], []])
  end

  it "replaces an object whose resourceVersion it cannot order (not a decimal number)" do
    store = described_class.new
    store.put(obj("a", "b7", :first))
    expect(store.put(obj("a", "a1", :second))).to be(true)
    expect(store.get("ns/a").dig(:status, :n)).to eq(:second)
  end
end

RSpec.describe StatsTracker::Operator::Controller::Store, "deletions" do
  def obj(uid, rv) = { metadata: { namespace: "ns", name: "a", uid: uid, resourceVersion: rv } }

  # A conflict re-read (or a write response) can bring the object that replaced a deleted one
  # before the watch delivers the deletion of the old one.
  it "does not let the deletion of an object remove a newer object of the same name" do
    store = described_class.new
    store.put(obj("uid-2", "60"))
    expect(store.remove(obj("uid-1", "55"))).to be(false)
    expect(store.get("ns/a").dig(:metadata, :uid)).to eq("uid-2")
    expect(store.remove(obj("uid-2", "70"))).to be(true)
    expect(store.get("ns/a")).to be_nil
  end
end
