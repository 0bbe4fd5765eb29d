# frozen_string_literal: true

require "stringio"

module StatsTracker
  module Simulation
    # One operator process of a pair that elect a leader on the simulated Lease, wired as Runtime
    # and Manager wire it: the real LeaderElection on this process's own clocks, the real
    # WriteFence on its leadership, informers and workers only while it leads (Manager starts them
    # after acquire), and on losing the lease or a SIGTERM: stop, drain the workers for up to the
    # shutdown timeout, release, exit. Its election runs on a Fiber that the world resumes when
    # its waits and requests are due.
    class Replica
      LEASE_DURATION = 15
      RENEW_DEADLINE = 10
      RETRY_PERIOD = 2
      SHUTDOWN_TIMEOUT = 25

      attr_reader :identity, :operator, :election, :state, :wake_at, :started_at

      # on_lead: called (on the Fiber) when it starts leading, to list its informers.
      # busy: whether any of its workers still runs a reconcile.
      # fence_permits: given the election, whether a write may go out (a spec can break it on
      # purpose to show a scenario catches a broken fence).
      def initialize(identity:, clock:, server:, random:, trace:, on_lead:, busy:, operator_options:,
                     fence_permits: :leader?.to_proc)
        @identity = identity
        @world_clock = clock
        @trace = trace
        @on_lead = on_lead
        @busy = busy
        own = ReplicaClock.new(clock: clock, offset: random.rand * 1000, skew: (random.rand * 240) - 120,
                               rate: 1 + (((random.rand * 2) - 1) * ReplicaClock::RATE_DRIFT))
        @stop = SimStop.new
        timeout = Operator::Controller::LeaderElection.http_timeouts(RENEW_DEADLINE)[:read]
        @election = Operator::Controller::LeaderElection.new(
          api: ApiServer::LeaseResource.new(server: server, timeout: timeout, identity: identity), namespace: "sim", name: "operator",
          identity: identity, logger: Operator::Log.new(io: StringIO.new), stop: @stop, lease_duration: LEASE_DURATION,
          renew_deadline: RENEW_DEADLINE, retry_period: RETRY_PERIOD, clock: -> { own.wall }, monotonic: -> { own.monotonic }
        )
        fence = Operator::Kube::WriteFence.new(-> { fence_permits.call(@election) })
        @operator = OperatorUnderTest.new(**operator_options, clock: own, identity: identity, fence: fence,
                                                              leading: -> { @election.leader? })
        @state = :standby
        @started_at = clock.now
        @wake_at = clock.now
        @fiber = Fiber.new { run }
      end

      def alive?
        @state != :exited
      end

      def leading?
        @state == :leading
      end

      # May become leader (a standby, or the leader).
      def candidate?
        %i[standby leading].include?(@state)
      end

      def leader?
        alive? && @election.leader?
      end

      def resume
        seconds = @fiber.resume
        @wake_at = @fiber.alive? ? @world_clock.now + seconds : nil
      end

      # SIGTERM: the loops see the stop at their next wait (at once, if waiting now).
      def terminate
        @stop.stop!
        @wake_at = @world_clock.now if @wake_at && @stop.waiting?
      end

      # SIGKILL: nothing more runs, nothing is released.
      def kill
        @state = :exited
        @wake_at = nil
      end

      private

      def run
        return exit_with(:stopped) unless @election.acquire

        @state = :leading
        @on_lead.call(self)
        finish(@election.hold)
      end

      def finish(result)
        @state = :stopping
        @stop.stop!
        deadline = @world_clock.now + SHUTDOWN_TIMEOUT
        Wait.for(0.5) while @world_clock.now < deadline && @busy.call(self)
        @election.release
        exit_with(result)
      end

      def exit_with(result)
        @trace.call("#{@identity} exits (#{result})")
        @state = :exited
      end
    end
  end
end
