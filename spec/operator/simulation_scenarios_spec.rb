# frozen_string_literal: true

require "open3"
require_relative "simulation/scenarios"

# Scripted interleavings of two replicas (spec/operator/simulation/scenarios.rb): a leader is
# deposed while its reconciles still run, and none of its writes may land once another leads.
RSpec.describe "operator simulation scenarios" do
  scenarios = StatsTracker::Simulation::Scenarios

  # The deposed replica's reconcile that ended after the other replica took over, refused by the
  # fence: proof the scenario reached the interleaving it is about.
  def refused_after_takeover(run)
    trace = run.result.trace
    takeover = trace.index { |line| line =~ /lease: #{run.deposed} -> (?!#{run.deposed})\w+/ }
    refused = trace.rindex { |line| line =~ /#{run.deposed} reconcile leaf:\S+ -> raised \S*NotPermitted/ }
    takeover && refused && refused > takeover
  end

  invariants = StatsTracker::Simulation::Invariants::ALL

  # A write of the deposed leader's that landed after the takeover and was refused because the
  # object had changed since its sender read it: proof the scenario reached its interleaving.
  def refused_late_write(run)
    trace = run.result.trace
    takeover = trace.index { |line| line =~ /lease: #{run.deposed} -> (?!#{run.deposed})\w+/ }
    refused = trace.rindex { |line| line =~ /api: \w+ of \w+ \S+ by #{run.deposed} -> 409: based on/ }
    takeover && refused && refused > takeover
  end

  %i[deposed_leader_drains stalled_renewal].each do |name|
    it "#{name}: the deposed leader's late reconciles write nothing once the other replica leads" do
      run = scenarios.run(name, invariants: invariants)
      expect(run.result.report).to start_with("seed 1: ok")
      expect(refused_after_takeover(run)).to be(true), run.result.trace.last(80).join("\n")
    end
  end

  # The fence decides when a write leaves, not when it lands: a write the leader sent while it led
  # can still be on its way in after the other replica took over. Its resourceVersion
  # precondition makes the API server refuse it once the new leader (or anyone) wrote the object.
  it "slow_leader_writes: a write sent while leading that lands after the takeover replaces nothing it did not read" do
    run = scenarios.run(:slow_leader_writes, invariants: invariants)
    expect(run.result.report).to start_with("seed 1: ok")
    expect(refused_late_write(run)).to be(true), run.result.trace.last(80).join("\n")
  end

  it "slow_leader_writes catches the lost update when the API server ignores resourceVersion preconditions" do
    run = scenarios.run(:slow_leader_writes, invariants: invariants, preconditions: false)
    expect(run.result.violation&.invariant).to eq(:lost_update), run.result.report
    expect(run.result.violation.message).to match(/by #{run.deposed} \(sent while it led\) based on resourceVersion/)
  end

  it "replays a scenario from rake, as the README says" do
    root = File.expand_path("../..", __dir__)
    out, status = Open3.capture2e("rake", "operator:simulate", "SCENARIO=deposed_leader_drains", "LINES=5", chdir: root)
    expect(status).to be_success, out
    expect(out).to include("seed 1: ok")
  end

  it "deposed_leader_drains catches a fence that lets a deposed leader write" do
    run = scenarios.run(:deposed_leader_drains, invariants: invariants, fence_permits: ->(_election) { true })
    expect(run.result.violation&.invariant).to eq(:one_leader), run.result.report
    expect(run.result.violation.message).to match(/by #{run.deposed} \(sent while it did not lead\) reached the API server/)
  end
end
