# frozen_string_literal: true

require_relative "support/kstatus"

# The kstatus rules the image spec relies on to say "Flux's health check would pass".
RSpec.describe StatsTracker::Testing::Kstatus do
  def object(generation: 2, observed: 2, conditions: [], deleting: false)
    meta = { "generation" => generation }
    meta["deletionTimestamp"] = "2026-01-01T00:00:00Z" if deleting
    { "metadata" => meta, "status" => { "observedGeneration" => observed, "conditions" => conditions } }
  end

  def cond(type, status) = { "type" => type, "status" => status }

  it "is Terminating while a deletion is pending, whatever the conditions say" do
    expect(described_class.compute(object(deleting: true, conditions: [cond("Ready", "True")]))).to eq(:terminating)
  end

  it "is InProgress while the latest generation is unobserved (the CRD default -1 included)" do
    expect(described_class.compute(object(observed: -1, conditions: [cond("Ready", "True")]))).to eq(:in_progress)
    expect(described_class.compute(object(observed: 1, conditions: [cond("Ready", "True")]))).to eq(:in_progress)
  end

  it "is InProgress while Reconciling and Failed when Stalled" do
    expect(described_class.compute(object(conditions: [cond("Reconciling", "True"), cond("Ready", "True")])))
      .to eq(:in_progress)
    expect(described_class.compute(object(conditions: [cond("Stalled", "True"), cond("Ready", "False")]))).to eq(:failed)
  end

  it "is Current only with Ready=True, InProgress with Ready False or Unknown" do
    expect(described_class.compute(object(conditions: [cond("Ready", "True")]))).to eq(:current)
    expect(described_class.compute(object(conditions: [cond("Ready", "False")]))).to eq(:in_progress)
    expect(described_class.compute(object(conditions: [cond("Ready", "Unknown")]))).to eq(:in_progress)
  end

  it "is Current with no conditions at all (why the CRDs default observedGeneration to -1)" do
    expect(described_class.compute(object(conditions: []))).to eq(:current)
  end
end
