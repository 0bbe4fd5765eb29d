# frozen_string_literal: true

require "stats_tracker/operator/conditions"

RSpec.describe StatsTracker::Operator::Conditions do
  let(:t0) { Time.utc(2026, 1, 1, 0, 0, 0) }
  let(:t1) { Time.utc(2026, 1, 1, 1, 0, 0) }

  def ready(list, status, now, reason: "Succeeded")
    described_class.set(list, type: "Ready", status: status, reason: reason, message: "m", generation: 3, now: now)
  end

  it "moves lastTransitionTime only when the status flips" do
    first = ready([], "True", t0)
    same = ready(first, "True", t1, reason: "Succeeded")
    flipped = ready(same, "False", t1, reason: "RateLimited")
    expect(same.first[:lastTransitionTime]).to eq("2026-01-01T00:00:00Z")
    expect(flipped.first).to include(status: "False", reason: "RateLimited", lastTransitionTime: "2026-01-01T01:00:00Z",
                                     observedGeneration: 3)
  end

  it "keeps one condition per type and removes abnormal-true ones" do
    list = described_class.set(ready([], "True", t0), type: "Reconciling", status: "True", reason: "Progressing",
                                                      message: "", generation: 1, now: t0)
    list = ready(list, "Unknown", t0)
    expect(list.map { |c| c[:type] }).to contain_exactly("Ready", "Reconciling")
    expect(described_class.remove(list, "Reconciling").map { |c| c[:type] }).to eq(["Ready"])
    expect(described_class.true?(list, "Reconciling")).to be(true)
    expect(described_class.status_of(list, "Ready")).to eq("Unknown")
  end
end
