# frozen_string_literal: true

require "open3"
require_relative "simulation/world"

# The deterministic simulation (see spec/operator/simulation/world.rb): a fixed set of seeds in
# every run, each a few simulated hours of faults then quiet. `rake operator:explore` runs more.
RSpec.describe "operator simulation" do
  sim = StatsTracker::Simulation
  invariants = sim::Invariants::ALL

  # Every fault: two replicas electing a leader, slow API responses, stale lists.
  def run_seed(seed, invariants, **options)
    StatsTracker::Simulation::World.new(seed: seed, invariants: invariants, fault_hours: 1.0, **options).run
  end

  # One operator alone, with the faults it has always had: these seeds replay as they did when
  # they were found.
  def run_lone(seed, invariants, **options)
    sim = StatsTracker::Simulation
    sim::World.new(seed: seed, invariants: invariants, faults: sim::World::BASE_FAULTS, **options).run
  end

  it "keeps every invariant over a fixed set of seeds, with two replicas, slow responses and stale lists" do
    failed = (1..4).map { |seed| run_seed(seed, invariants) }.reject(&:ok?)
    expect(failed.map(&:report)).to eq([])
  end

  it "keeps every invariant over a fixed set of seeds of one operator alone" do
    failed = (1..8).map { |seed| run_lone(seed, invariants) }.reject(&:ok?)
    expect(failed.map(&:report)).to eq([])
  end

  it "replays a seed exactly" do
    short = { fault_hours: 0.3, converge_seconds: 300 }
    first = run_seed(3, invariants, **short)
    expect(run_seed(3, invariants, **short).trace).to eq(first.trace)
    expect(first.trace.size).to be > 200
  end

  describe "regressions it found" do
    it "seed 121: a Leaf deleted during a listing backoff does not cancel the listing's retry" do
      expect(run_lone(121, invariants).report).to start_with("seed 121: ok")
    end

    it "seed 7: a requestedAt that reaches a Project during its listing backoff is handled" do
      expect(run_lone(7, invariants).report).to start_with("seed 7: ok")
    end

    it "seed 24: a listing that showed a sign-in page is read again after its interval while its Leafs change" do
      expect(run_lone(24, invariants).report).to start_with("seed 24: ok")
    end

    it "seed 451: a leader whose thread stalls inside a renewal does not renew late and hold the others off" do
      expect(run_seed(451, invariants, fault_hours: 3.0).report).to start_with("seed 451: ok")
    end

    it "seed 456: the takeover bound waits out a stalled lease request that another fault's entry replaced" do
      expect(run_seed(456, invariants, fault_hours: 3.0).report).to start_with("seed 456: ok")
    end

    it "seed 3: a relist from a lagging API server does not bring a deleted Leaf back into the cache" do
      expect(run_seed(3, invariants, faults: sim::World::ELECTION_FAULTS).report).to start_with("seed 3: ok")
    end
  end

  # Before the Store refused older resourceVersions, this found the cache moving back in most seeds.
  it "checks that the cache never moves back, and that one leader at most writes and one takes over" do
    expect(invariants).to include(:cache_order, :one_leader, :takeover)
  end

  it "catches lost updates when the API server ignores resourceVersion preconditions" do
    failed = (1..4).map { |seed| run_lone(seed, invariants, preconditions: false) }.reject(&:ok?)
    expect(failed.map { |r| r.violation.invariant }).to include(:lost_update)
  end

  it "replays a seed and explores seeds from rake, as the README says" do
    root = File.expand_path("../..", __dir__)
    out, status = Open3.capture2e("rake", "operator:simulate", "SEED=3", "LINES=5", "HOURS=0.2", chdir: root)
    expect(status).to be_success, out
    expect(out).to include("seed 3: ok")
    out, status = Open3.capture2e("rake", "operator:explore", "FROM=4", "SEEDS=2", "HOURS=0.2", "LONE=1", chdir: root)
    expect(status).to be_success, out
    expect(out).to match(/2 seeds, \d+ simulated hours, \d+ steps, [\d.]+ s wall; failures: none/)
  end
end
