# frozen_string_literal: true

# The operator's deterministic simulation (spec/operator/simulation): a fixed set of seeds runs in
# the RSpec suite; these tasks replay one seed with its full trace, or explore many.
namespace :operator do
  def simulation_world
    $LOAD_PATH.unshift(File.expand_path("../lib", __dir__), File.expand_path("../operator/lib", __dir__))
    require_relative "../spec/operator/simulation/world"
    StatsTracker::Simulation
  end

  def simulation_invariants(sim)
    sim::Invariants::ALL - ENV.fetch("SKIP", "").split(",").map(&:to_sym)
  end

  # LONE=1: one operator without leader election, slow responses or stale lists.
  def simulation_faults(sim)
    (ENV["LONE"] == "1" ? sim::World::BASE_FAULTS : sim::World::FAULTS) +
      (ENV["ALL_FAULTS"] == "1" ? sim::World::OPTIONAL_FAULTS : [])
  end

  def simulation_world_for(sim, seed)
    sim::World.new(seed: seed, invariants: simulation_invariants(sim), faults: simulation_faults(sim),
                   fault_hours: Float(ENV.fetch("HOURS", "3")))
  end

  desc "Replay one simulation seed and print its trace (SEED=n, LINES=60, HOURS=3 of faults; SKIP=invariant,...; " \
       "ALL_FAULTS=1; LONE=1; SCENARIO=name runs a scripted scenario instead)"
  task :simulate do
    sim = simulation_world
    seed = Integer(ENV.fetch("SEED", "1"))
    result = if ENV["SCENARIO"]
               require_relative "../spec/operator/simulation/scenarios"
               sim::Scenarios.run(ENV["SCENARIO"].to_sym, seed: seed, invariants: simulation_invariants(sim)).result
             else
               simulation_world_for(sim, seed).run
             end
    puts result.report(lines: Integer(ENV.fetch("LINES", "60")))
    exit(1) unless result.ok?
  end

  desc "Explore many simulation seeds (FROM=1, SEEDS=500, HOURS=3; SKIP=...; ALL_FAULTS=1; LONE=1) and print the figures"
  task :explore do
    sim = simulation_world
    from = Integer(ENV.fetch("FROM", "1"))
    seeds = Integer(ENV.fetch("SEEDS", "500"))
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    # One line per seed as it ends, so a long exploration shows its progress.
    results = (from...(from + seeds)).map do |seed|
      simulation_world_for(sim, seed).run.tap do |r|
        puts r.report(lines: 0).lines.first
        $stdout.flush
      end
    end
    wall = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    failed = results.reject(&:ok?)
    tally = failed.map { |r| r.violation.invariant }.tally
    puts format("%<n>d seeds, %<h>.0f simulated hours, %<steps>d steps, %<wall>.1f s wall; failures: %<t>s",
                n: results.size, h: results.sum(&:simulated) / 3600, steps: results.sum(&:steps), wall: wall,
                t: tally.empty? ? "none" : tally.map { |k, v| "#{k} #{v}" }.join(", "))
    exit(1) unless failed.empty?
  end
end
