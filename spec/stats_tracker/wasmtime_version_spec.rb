# frozen_string_literal: true

require_relative "../../bench/lib/wasmtime_version"

# The wasmtime version is written down once, where Cargo resolved it; the extension (its
# build script) and the benchmarks read it from there.
RSpec.describe "StatsTracker.wasmtime_version" do
  it "is the wasmtime that Cargo.lock resolved for the build" do
    expect(StatsTracker.wasmtime_version).to eq(Bench.wasmtime_version).and match(/\A\d+\.\d+\.\d+\z/)
  end
end
