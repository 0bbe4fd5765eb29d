# frozen_string_literal: true

require "stats_tracker/operator/duration"

RSpec.describe StatsTracker::Operator::Duration do
  it "parses Go durations, including compound ones" do
    expect(described_class.parse("1h")).to eq(3600.0)
    expect(described_class.parse("1h30m")).to eq(5400.0)
    expect(described_class.parse("2s")).to eq(2.0)
    expect(described_class.parse("1.5m")).to eq(90.0)
    expect(described_class.parse("500ms")).to be_within(1e-9).of(0.5)
    expect(described_class.parse("0")).to eq(0.0)
  end

  it "accepts an interval of at least a minute, and rejects shorter ones with a typed error" do
    expect(described_class.interval("1m")).to eq(60.0)
    expect(described_class.interval("1h")).to eq(3600.0)
    %w[0 1ns 59s 0.5m].each do |short|
      expect { described_class.interval(short) }.to raise_error(described_class::InvalidError, /minimum of 1m/), short
    end
  end

  it "rejects what Go would reject, with a typed error" do
    ["", "1", "1d", "-1h", "h", "1h 2m", "abc", nil].each do |bad|
      expect { described_class.parse(bad) }.to raise_error(described_class::InvalidError), bad.inspect
    end
  end
end
