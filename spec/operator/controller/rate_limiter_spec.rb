# frozen_string_literal: true

require "stats_tracker/operator/controller/rate_limiter"

RSpec.describe StatsTracker::Operator::Controller::RateLimiter do
  let(:now) { [0.0] }
  let(:limiter) { described_class.new(rate: 2, burst: 3, clock: -> { now[0] }) }

  it "allows a burst, then one request per 1/rate seconds" do
    expect(Array.new(3) { limiter.reserve }).to eq([0.0, 0.0, 0.0])
    expect(limiter.reserve).to be_within(1e-9).of(0.5)
    now[0] += 0.5
    expect(limiter.reserve).to eq(0.0)
  end

  it "tells whether a request could start now without taking a token" do
    3.times { limiter.reserve }
    expect(limiter.ready?).to be(false)
    now[0] += 0.5
    expect(limiter.ready?).to be(true)
    expect(limiter.reserve).to eq(0.0)
  end

  it "honours a pause (Retry-After) for everyone" do
    limiter.pause_for(30)
    expect(limiter.reserve).to eq(30.0)
    now[0] += 30
    expect(limiter.reserve).to eq(0.0)
  end

  it "gives up waiting when told to stop" do
    limiter.pause_for(30)
    expect(limiter.acquire(stopping: -> { true })).to be(false)
  end
end

RSpec.describe StatsTracker::Operator::Controller::RateLimiter, "spare tokens for optional reads" do
  let(:now) { [0.0] }
  let(:limiter) { described_class.new(rate: 1, burst: 5, clock: -> { now[0] }) }

  it "leaves half the burst for counts, and takes nothing once the bucket is that low" do
    expect(Array.new(4) { limiter.try_acquire_spare }).to eq([true, true, true, false])
    expect(Array.new(2) { limiter.reserve }).to eq([0.0, 0.0])
    now[0] += 1
    expect(limiter.try_acquire_spare).to be(false)
  end

  it "takes nothing while a count waits for a token or GitHub has paused us" do
    5.times { limiter.reserve }
    waited = Queue.new
    counting = Thread.new do
      limiter.acquire(sleeper: lambda { |_s|
        now[0] += 10 # the bucket refills while this count is still asleep
        waited << :asleep
        Thread.stop
      })
    end
    waited.pop
    expect(limiter.try_acquire_spare).to be(false)
    counting.kill.join
    expect(limiter.try_acquire_spare).to be(true)
    limiter.pause_for(30)
    expect(limiter.try_acquire_spare).to be(false)
  end
end
