# frozen_string_literal: true

require_relative "../../bench/lib/soak_analysis"

RSpec.describe Bench::SoakAnalysis do
  # One sample every 10 s for 10 minutes; rss(t) in KiB, 1 refresh and 10 ms CPU per second.
  def samples(&rss)
    (0..60).map { |i| { t: i * 10.0, rss_kib: rss.call(i * 10.0), cpu_s: i * 0.1, github: i * 10, kube: i * 10 } }
  end

  it "calls RSS that settles after warm-up flat" do
    analysis = described_class.new(samples { |t| t < 60 ? 60_000 + (t * 300) : 80_000 + (t.to_i % 30) })
    expect(analysis).to be_flat
    expect(analysis.slope_mib_per_hour.abs).to be < 1
    expect(analysis.verdict).to start_with("flat")
  end

  it "calls a steady leak growing, even one that stays small per sample" do
    analysis = described_class.new(samples { |t| 80_000 + (t * 10) }) # +10 KiB/s, ~35 MiB/h
    expect(analysis).not_to be_flat
    expect(analysis.growth).to be > described_class::TOLERANCE
    expect(analysis.slope_mib_per_hour).to be_within(0.5).of(35.2)
    expect(analysis.verdict).to start_with("GROWING")
  end

  it "calls a late step up growing (the glibc arena pattern)" do
    analysis = described_class.new(samples { |t| t < 450 ? 80_000 : 120_000 })
    expect(analysis).not_to be_flat
  end

  it "ignores one noisy sample at the end" do
    analysis = described_class.new(samples { |t| t == 600 ? 200_000 : 80_000 })
    expect(analysis).to be_flat
  end

  it "divides CPU and API requests after warm-up by the refreshes in the same window" do
    analysis = described_class.new(samples { 80_000 })
    expect(analysis.refreshes).to eq(450)
    expect(analysis.cpu_ms_per_refresh).to be_within(0.01).of(10.0)
    expect(analysis.kube_per_refresh).to eq(1.0)
  end

  it "refuses a soak too short to judge" do
    expect { described_class.new(samples { 1 }.first(4)) }.to raise_error(ArgumentError, /at least 6 samples/)
  end
end
