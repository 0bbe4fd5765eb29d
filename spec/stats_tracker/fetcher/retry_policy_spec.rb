# frozen_string_literal: true

require "time"

RSpec.describe StatsTracker::Fetcher::RetryPolicy do
  describe ".parse_retry_after" do
    let(:now) { Time.utc(2026, 11, 24, 12, 0, 0) }

    it "reads delta-seconds" do
      expect(described_class.parse_retry_after(" 120 ", now: now)).to eq(120.0)
    end

    it "reads an HTTP date as seconds from now" do
      expect(described_class.parse_retry_after("Tue, 24 Nov 2026 12:01:30 GMT", now: now)).to eq(90.0)
    end

    it "treats a date in the past as no wait" do
      expect(described_class.parse_retry_after("Tue, 24 Nov 2026 11:00:00 GMT", now: now)).to eq(0.0)
    end

    it "ignores what it cannot read" do
      expect([nil, "", "soon", "-5", "1.5"].map { |v| described_class.parse_retry_after(v, now: now) }).to all(be_nil)
    end
  end

  describe "#delay" do
    subject(:policy) { described_class.new(max_retries: 4, base_delay: 1.0, max_delay: 3.0, max_wait: 60, random: random) }

    let(:random) { Random.new(42) }

    it "grows exponentially up to max_delay, keeping at least half of each step" do
      delays = (0..3).map { |attempt| policy.delay(attempt: attempt) }

      expect(delays[0]).to be_between(0.5, 1.0)
      expect(delays[1]).to be_between(1.0, 2.0)
      expect(delays[2]).to be_between(1.5, 3.0)
      expect(delays[3]).to be_between(1.5, 3.0)
    end

    it "spreads clients that fail together" do
      delays = Array.new(20) { described_class.new(random: Random.new(_1)).delay(attempt: 2) }

      expect(delays.uniq.size).to be > 10
    end

    it "never retries before Retry-After" do
      expect(policy.delay(attempt: 0, retry_after: 30)).to be_between(30, 31)
    end

    it "stops after max_retries or when Retry-After is beyond max_wait" do
      expect(policy.delay(attempt: 4)).to be_nil
      expect(policy.delay(attempt: 0, retry_after: 61)).to be_nil
    end

    it "rejects a negative max_retries" do
      expect { described_class.new(max_retries: -1) }.to raise_error(ArgumentError)
    end
  end
end
