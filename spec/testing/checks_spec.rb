# frozen_string_literal: true

require "stringio"
require_relative "../../testing/e2e/checks"

RSpec.describe StatsTracker::E2E::Checks do
  let(:io) { StringIO.new }
  let(:failures) { [] }
  let(:checks) { described_class.new(io: io, on_failure: ->(result) { failures << result.name }) }

  it "counts each check, and hands every failed one to on_failure while the cluster is still up" do
    checks.run("works") { "fine" }
    checks.run("breaks") { raise "no Lease holder" }
    checks.run("set-up", setup: true) { raise "no node" }
    checks.run("after") { "never runs" }

    expect(io.string.lines.map { |l| l.split.first(2).join(" ") }).to eq(["ok works", "FAIL breaks", "FAIL set-up", "FAIL after"])
    expect(io.string).to include("FAIL after (0 s): not run: set-up step 'set-up' failed")
    expect(failures).to eq(%w[breaks set-up]) # a check that never ran has nothing to keep
    expect(checks.summary).to eq("e2e: 1 passed, 3 failed")
  end

  it "still records the failure when on_failure itself raises" do
    noisy = described_class.new(io: io, on_failure: ->(_result) { raise IOError, "disk full" })
    noisy.run("breaks") { raise "boom" }
    expect(noisy.summary).to eq("e2e: 0 passed, 1 failed")
    expect(io.string).to include("FAIL breaks", "could not keep what the failure left: IOError: disk full")
  end
end
