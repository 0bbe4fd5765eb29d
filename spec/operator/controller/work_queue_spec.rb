# frozen_string_literal: true

require "stats_tracker/operator/controller/work_queue"
require "stats_tracker/operator/controller/object_key"

RSpec.describe StatsTracker::Operator::Controller::WorkQueue do
  let(:now) { [100.0] }
  let(:clock) { -> { now[0] } }
  let(:backoff) { StatsTracker::Backoff.new(base: 1, cap: 8, random: Random.new(1)) }
  let(:queue) { described_class.new(backoff: backoff, clock: clock) }

  it "queues a key once however often it is added" do
    3.times { queue.add("a") }
    queue.add("b")
    expect(queue.depth).to eq(2)
    expect([queue.get(timeout: 0), queue.get(timeout: 0)]).to eq(%w[a b])
    expect(queue.get(timeout: 0)).to be_nil
  end

  it "never hands a key to two workers; a key re-added while processed comes back after done" do
    queue.add("a")
    expect(queue.get(timeout: 0)).to eq("a")
    queue.add("a")
    expect(queue.get(timeout: 0)).to be_nil
    queue.done("a")
    expect(queue.get(timeout: 0)).to eq("a")
  end

  it "releases delayed keys when due, the earliest schedule winning" do
    queue.add_after("a", 10)
    queue.add_after("a", 5)
    queue.add_after("a", 20)
    expect(queue.get(timeout: 0)).to be_nil
    now[0] += 5
    expect(queue.get(timeout: 0)).to eq("a")
    queue.done("a")
    now[0] += 100
    expect(queue.get(timeout: 0)).to be_nil
  end

  it "hands out ready keys round-robin across namespaces" do
    key = StatsTracker::Operator::Controller::ObjectKey
    (1..4).each { |i| queue.add(key.new(:leaf, "big", "l#{i}")) }
    queue.add(key.new(:leaf, "small", "s1"))
    queue.add(key.new(:leaf, "other", "o1"))
    order = Array.new(6) { queue.get(timeout: 0).then { |k| "#{k.namespace}/#{k.name}" } }
    expect(order).to eq(%w[big/l1 small/s1 other/o1 big/l2 big/l3 big/l4])
    expect(queue.depth).to eq(0)
  end

  it "keeps a pending retry when the key is added now or aggregated sooner" do
    queue.retry_after("a", 16)
    queue.add("a")
    queue.add_after("a", 1, reason: :aggregate)
    expect(queue.get(timeout: 0)).to eq("a")
    queue.done("a")
    now[0] += 1
    expect(queue.get(timeout: 0)).to eq("a")
    queue.done("a")
    expect(queue.next_due("a")).to eq([:retry, 15.0])
    now[0] += 15
    expect(queue.get(timeout: 0)).to eq("a")
    queue.done("a")
    expect(queue.next_due("a")).to be_nil
  end

  it "keeps a schedule made while the key is queued or being processed" do
    queue.add("a")
    queue.add_after("a", 30, reason: :interval)
    expect(queue.get(timeout: 0)).to eq("a")
    queue.add_after("a", 10, reason: :aggregate)
    queue.done("a")
    expect(queue.next_due("a")).to eq([:aggregate, 10.0])
    now[0] += 30
    expect(queue.get(timeout: 0)).to eq("a")
    queue.done("a")
    expect(queue.next_due("a")).to be_nil
  end

  it "replaces a retry with the latest failure's and drops it on success" do
    queue.retry_after("a", 5)
    queue.retry_after("a", 50)
    expect(queue.pending("a", :retry)).to eq(50.0)
    queue.add_after("a", 3600, reason: :interval)
    queue.forget("a")
    expect(queue.pending("a", :retry)).to be_nil
    expect(queue.next_due("a")).to eq([:interval, 3600.0])
  end

  it "backs off per key, exponentially with jitter, up to the cap, and forgets on success" do
    delays = Array.new(6) { queue.add_rate_limited("a") }
    delays.each_with_index do |d, n|
      ceiling = [8, 2**n].min
      expect(d).to be_between(ceiling / 2.0, ceiling)
    end
    expect(queue.failures("a")).to eq(6)
    queue.forget("a")
    expect(queue.failures("a")).to eq(0)
    expect(queue.add_rate_limited("b", at_least: 30)).to eq(30.0)
  end

  it "hands out keys that fell due together in the order of their due times, ties first-scheduled first" do
    queue.add_after("late", 30)
    queue.add_after("early", 10)
    queue.add_after("tie-1", 20)
    queue.add_after("tie-2", 20)
    queue.retry_after("retry", 15)
    now[0] += 60
    expect(Array.new(5) { queue.get(timeout: 0) }).to eq(%w[early retry tie-1 tie-2 late])
  end

  it "ignores a schedule that was replaced or dropped before it fell due" do
    queue.retry_after("a", 5)
    queue.retry_after("a", 50)
    queue.add_after("b", 5)
    queue.add_after("b", 40)
    queue.retry_after("c", 5)
    queue.forget("c")
    now[0] += 10
    expect(queue.get(timeout: 0)).to eq("b")
    queue.done("b")
    expect(queue.get(timeout: 0)).to be_nil
    now[0] += 40
    expect(queue.get(timeout: 0)).to eq("a")
    queue.done("a")
    expect(queue.get(timeout: 0)).to be_nil
    expect(queue.scheduled).to eq(0)
  end

  it "keeps every schedule of thousands of keys and releases each once, in due order" do
    due = Array.new(2000) { |i| [format("k%04d", i), (i * 7919 % 2000) + 1] }
    due.each { |key, delay| queue.add_after(key, delay, reason: :interval) }
    due.first(500).each { |key, delay| queue.add_after(key, delay + 0.5, reason: :aggregate) }
    seen = []
    (1..2001).each do |t|
      now[0] = 100.0 + t
      while (key = queue.get(timeout: 0))
        seen << key
        queue.done(key)
      end
    end
    events = due.map { |key, delay| [delay, key] } + due.first(500).map { |key, delay| [delay + 0.5, key] }
    expect(seen).to eq(events.sort.map(&:last))
    expect(queue.scheduled).to eq(0)
  end

  it "wakes a blocked worker when a key arrives and returns nil after shutdown" do
    real = described_class.new
    got = Queue.new
    worker = Thread.new { got << real.get }
    real.add("x")
    expect(got.pop).to eq("x")
    worker.join
    waiter = Thread.new { real.get }
    real.shutdown
    expect(waiter.value).to be_nil
    real.add("y")
    expect(real.depth).to eq(0)
  end
end
