# frozen_string_literal: true

require "stats_tracker/operator/controller/rate_limiter"

RSpec.describe StatsTracker::Operator::Controller::RateLimiter do
  let(:now) { [0.0] }
  let(:limiter) { described_class.new(rate: 2, burst: 3, clock: -> { now[0] }) }

  it "allows a burst, then one request per 1/rate seconds, and never waits itself" do
    expect(Array.new(3) { |i| limiter.take("k#{i}") }).to eq([0.0, 0.0, 0.0])
    expect(limiter.take("k3")).to be_within(1e-9).of(0.5)
    now[0] += 0.5
    expect(limiter.take("k3")).to eq(0.0)
  end

  it "honours a pause (Retry-After) for everyone, then the keys' places in line" do
    limiter.pause_for(30)
    expect(limiter.take("a")).to eq(30.0)
    4.times { |i| limiter.take("w#{i}") }
    # The bucket is full again when the pause ends: three keys go then, the next two a token apart.
    expect(limiter.take("w2")).to be_within(1e-9).of(30.5)
    expect(limiter.take("w3")).to be_within(1e-9).of(31.0)
    now[0] += 30
    expect(limiter.take("a")).to eq(0.0)
  end

  it "keeps a waiting key's place when it asks again too early" do
    3.times { |i| limiter.take("k#{i}") }
    expect(limiter.take("first")).to be_within(1e-9).of(0.5)
    expect(limiter.take("second")).to be_within(1e-9).of(1.0)
    expect(limiter.take("first")).to be_within(1e-9).of(0.5)
  end

  it "deals places round-robin across namespaces" do
    3.times { |i| limiter.take("k#{i}") }
    busy = Array.new(10) { |i| limiter.take("busy#{i}", namespace: "busy") }
    other = limiter.take("one", namespace: "quiet")
    expect(busy.first).to be_within(1e-9).of(0.5)
    # Second in line, not eleventh: the busy namespace's first key, then this one.
    expect(other).to be_within(1e-9).of(1.0)
    expect(limiter.take("busy1", namespace: "busy")).to be_within(1e-9).of(1.5)
  end

  it "puts a listing read ahead of the page reads waiting in its namespace, behind earlier listings" do
    3.times { |i| limiter.take("k#{i}") }
    2.times { |i| limiter.take("leaf#{i}", namespace: "ns") }
    expect(limiter.take("project", namespace: "ns", listing: true)).to be_within(1e-9).of(0.5)
    expect(limiter.take("other-project", namespace: "ns", listing: true)).to be_within(1e-9).of(1.0)
    expect(limiter.take("leaf0", namespace: "ns")).to be_within(1e-9).of(1.5)
    # Another namespace still gets its round: the listings do not jump the line across tenants.
    expect(limiter.take("quiet", namespace: "quiet")).to be_within(1e-9).of(1.0)
    expect(limiter.take("project", namespace: "ns", listing: true)).to be_within(1e-9).of(0.5)
  end

  it "keeps the token a waiting listing was told to come for from its namespace's page reads" do
    3.times { |i| limiter.take("k#{i}") }
    expect(limiter.take("leaf", namespace: "ns")).to be_within(1e-9).of(0.5)
    expect(limiter.take("project", namespace: "ns", listing: true)).to be_within(1e-9).of(0.5)
    now[0] += 0.5
    expect(limiter.take("leaf", namespace: "ns")).to be_within(1e-9).of(0.5)
    expect(limiter.take("elsewhere", namespace: "other")).to eq(0.0) # another tenant's turn is its own
    now[0] += 0.5
    expect(limiter.take("project", namespace: "ns", listing: true)).to eq(0.0)
    expect(limiter.take("leaf", namespace: "ns")).to be_within(1e-9).of(0.5)
  end

  it "gives up the place of a key that does not come back" do
    3.times { |i| limiter.take("k#{i}") }
    limiter.take("gone")
    now[0] += 0.5 + described_class::FORGET_AFTER + 1
    3.times { |i| limiter.take("n#{i}") }
    expect(limiter.take("next")).to be_within(1e-9).of(0.5)
  end
end

RSpec.describe StatsTracker::Operator::Controller::RateLimiter, "spare tokens for optional reads" do
  let(:now) { [0.0] }
  let(:limiter) { described_class.new(rate: 1, burst: 5, clock: -> { now[0] }) }

  it "leaves half the burst for counts, and takes nothing once the bucket is that low" do
    expect(Array.new(4) { limiter.try_acquire_spare }).to eq([true, true, true, false])
    expect(Array.new(2) { |i| limiter.take("k#{i}") }).to eq([0.0, 0.0])
    now[0] += 1
    expect(limiter.try_acquire_spare).to be(false)
  end

  it "takes nothing while a count waits for its turn or GitHub has paused us" do
    5.times { |i| limiter.take("k#{i}") }
    expect(limiter.take("count")).to be_positive
    now[0] += 10 # the bucket refills while the count has not come back yet
    expect(limiter.try_acquire_spare).to be(false)
    expect(limiter.take("count")).to eq(0.0)
    expect(limiter.try_acquire_spare).to be(true)
    limiter.pause_for(30)
    expect(limiter.try_acquire_spare).to be(false)
  end
end
