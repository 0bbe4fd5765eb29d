# frozen_string_literal: true

require "stats_tracker/operator/controller/due_heap"

RSpec.describe StatsTracker::Operator::Controller::DueHeap do
  let(:heap) { described_class.new }
  let(:all_live) { ->(_key, _reason, _due) { true } }

  def drain(now, live: all_live)
    out = []
    heap.pop_due(now, live: live) { |key, reason, due| out << [key, reason, due] }
    out
  end

  it "yields only what is due, earliest first, equal due times in push order" do
    [5.0, 1.0, 3.0, 3.0, 9.0].each_with_index { |due, i| heap.push(due, "k#{i}", :interval) }
    expect(drain(4.0).map(&:first)).to eq(%w[k1 k2 k3])
    expect(heap.size).to eq(2)
    expect(drain(100.0).map(&:first)).to eq(%w[k0 k4])
  end

  it "matches a sort of random due times" do
    random = Random.new(7)
    dues = Array.new(500) { random.rand(1000).to_f }
    dues.each_with_index { |due, i| heap.push(due, i, :interval) }
    expect(drain(1000.0).map(&:last)).to eq(dues.sort)
  end

  it "skips and discards entries that are no longer live" do
    heap.push(1.0, "stale", :retry)
    heap.push(2.0, "live", :retry)
    live = ->(key, _reason, _due) { key == "live" }
    expect(heap.next_due(live: live)).to eq(2.0)
    expect(heap.size).to eq(1)
    expect(drain(5.0, live: live).map(&:first)).to eq(%w[live])
  end

  it "rebuilds from the live schedules only" do
    heap.push(1.0, "gone", :retry)
    heap.rebuild({ "a" => { interval: 4.0, retry: 2.0 } })
    expect(drain(10.0).map { |key, reason, _| [key, reason] }).to eq([%w[a retry], %w[a interval]].map { |k, r| [k, r.to_sym] })
  end
end
