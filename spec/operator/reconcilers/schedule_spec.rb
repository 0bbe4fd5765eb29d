# frozen_string_literal: true

require "stats_tracker/operator/reconcilers/schedule"

RSpec.describe StatsTracker::Operator::Reconcilers::Schedule do
  def object(generation:, requested_at: nil, status: {})
    annotations = requested_at ? { described_class::REQUESTED_AT => requested_at } : {}
    { metadata: { generation: generation, annotations: annotations }, status: status }
  end

  describe ".changed_by_user?" do
    it "is true for an object seen for the first time" do
      expect(described_class.changed_by_user?(object(generation: 1), nil)).to be(true)
    end

    it "is true for a new generation or a new requestedAt token" do
      expect(described_class.changed_by_user?(object(generation: 2), object(generation: 1))).to be(true)
      expect(described_class.changed_by_user?(object(generation: 1, requested_at: "b"),
                                              object(generation: 1, requested_at: "a"))).to be(true)
    end

    it "is false when only the status changed (our own writes)" do
      before = object(generation: 3, requested_at: "a", status: { downloadCount: 1 })
      after = object(generation: 3, requested_at: "a", status: { downloadCount: 2 })
      expect(described_class.changed_by_user?(after, before)).to be(false)
    end
  end
end
