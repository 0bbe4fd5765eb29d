# frozen_string_literal: true

require_relative "world"

module StatsTracker
  module Simulation
    # Named scripted runs of two replicas: each drives one dangerous interleaving on purpose and
    # keeps every invariant checked, and records who was deposed so a spec can check that the
    # interleaving really happened (a scenario that no longer reaches it proves nothing).
    module Scenarios
      # When the scripted faults start: by then every Project and Leaf is Ready.
      START = 900.0
      # How long GitHub takes to answer meanwhile: a reconcile that started while its replica led
      # is still reading when the other replica has taken over.
      GITHUB_SLOW = 20.0

      Run = Struct.new(:result, :deposed, keyword_init: true)

      def self.names
        %i[deposed_leader_drains stalled_renewal slow_leader_writes]
      end

      def self.run(name, seed: 1, invariants: Invariants::ALL, **options)
        raise ArgumentError, "no scenario #{name}; known: #{names.join(', ')}" unless names.include?(name)

        deposed = []
        script = Script.new(name)
        send(name, script, deposed)
        world = World.new(seed: seed, invariants: invariants, fault_hours: 0.4, converge_seconds: 1800, script: script,
                          **options)
        Run.new(result: world.run, deposed: deposed.first)
      end

      # The leader's lease requests are refused (429) while its other requests go through, and
      # its workers are busy reading a slow GitHub: it loses the lease, the standby takes over,
      # and the deposed leader's reconciles finish while it drains, then try to write.
      def self.deposed_leader_drains(script, deposed)
        slow_github(script)
        script.at(START, "the leader's lease requests are refused") do |world|
          deposed << world.leader.identity
          world.server.lease_fault(deposed.first, :refuse, world.clock.now + 120)
          world.request_all("leaves")
        end
      end

      # The leader's election thread stalls inside a renewal for longer than the lease: no HTTP
      # timeout cuts it short, so only its own clock can end its leadership in time.
      def self.stalled_renewal(script, deposed)
        slow_github(script)
        script.at(START, "the leader's election thread stalls") do |world|
          deposed << world.leader.identity
          world.server.lease_fault(deposed.first, :stall, world.clock.now + 45)
          world.request_all("leaves")
        end
      end

      # The leader's own requests become slow (20 s each way, under its client's timeout): its
      # renewals time out, the standby takes over, and a write the leader sent while it still led
      # is still on its way in.
      def self.slow_leader_writes(script, deposed)
        script.at(START, "the leader's requests become slow") do |world|
          deposed << world.leader.identity
          world.server.slow_replica(deposed.first, 90, 20)
          world.request_all("leaves")
        end
      end

      def self.slow_github(script)
        script.at(START - 5, "GitHub answers slowly") do |world|
          world.github.slow_down(GITHUB_SLOW, world.clock.now + 120)
        end
      end
    end
  end
end
