# frozen_string_literal: true

require "stats_tracker/backoff"

RSpec.describe StatsTracker::Backoff do
  subject(:backoff) { described_class.new(base: 1, cap: 8, random: Random.new(7)) }

  it "waits between half and all of an exponentially growing ceiling, up to the cap" do
    7.times do |attempt|
      ceiling = [8.0, 2.0**attempt].min
      expect(backoff.ceiling(attempt)).to eq(ceiling)
      expect(Array.new(20) { backoff.delay(attempt) }).to all(be_between(ceiling / 2, ceiling))
    end
  end

  it "takes a ceiling per call" do
    expect(backoff.ceiling(10, cap: 30)).to eq(30.0)
    expect(backoff.delay(10, cap: 30)).to be_between(15, 30)
  end

  it "spreads its waits over the upper half (equal jitter)" do
    delays = Array.new(200) { backoff.delay(3) }
    expect(delays.min).to be < 4.5
    expect(delays.max).to be > 7.5
  end
end
