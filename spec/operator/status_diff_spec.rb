# frozen_string_literal: true

require "stats_tracker/operator/status_diff"

RSpec.describe StatsTracker::Operator::StatusDiff do
  it "ignores nil-valued keys and condition order" do
    stored = { downloadCount: 5, conditions: [{ type: "Ready" }, { type: "Reconciling" }] }
    desired = { downloadCount: 5, lastPublished: nil, conditions: [{ type: "Reconciling" }, { type: "Ready" }] }
    expect(described_class.changed?(stored, desired)).to be(false)
    expect(described_class.changed?(stored, desired.merge(downloadCount: 6))).to be(true)
  end

  it "drops nils before server-side apply" do
    expect(described_class.compact(a: nil, b: [{ c: nil, d: 1 }])).to eq(b: [{ d: 1 }])
  end
end
