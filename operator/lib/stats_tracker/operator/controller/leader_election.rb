# frozen_string_literal: true

require_relative "../kube/errors"

module StatsTracker
  module Operator
    module Controller
      # Leader election on a coordination.k8s.io/v1 Lease, with client-go's timings by default
      # (15 s lease, renew every 2 s, give up after 10 s without a successful renewal). Every write
      # is a PUT carrying the resourceVersion read just before, so two candidates can never both
      # win: the loser gets 409. On shutdown the holder clears holderIdentity so a standby takes
      # over at once instead of waiting for the lease to expire.
      #
      # Time, as in client-go, is never read from the lease: renewTime was written by another
      # node's clock. A standby counts a lease expired when it has seen the lease record unchanged
      # for leaseDurationSeconds on its own monotonic clock. The leader counts itself leader only
      # until renew_deadline after the start of its last successful renewal: anyone who saw that
      # renewal saw it after it started, so no one can count the lease expired before
      # lease_duration after it started, and renew_deadline < lease_duration. #leader? turns false
      # by the clock alone, even while a renewal is still stuck in a slow request.
      class LeaderElection
        attr_reader :identity

        def initialize(api:, namespace:, name:, identity:, logger:, stop:, lease_duration: 15, renew_deadline: 10,
                       retry_period: 2, clock: -> { Time.now },
                       monotonic: -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) })
          raise ArgumentError, "renew_deadline must be shorter than lease_duration" unless renew_deadline < lease_duration
          raise ArgumentError, "retry_period must be shorter than renew_deadline" unless retry_period < renew_deadline

          @api = api
          @namespace = namespace
          @name = name
          @identity = identity
          @logger = logger
          @stop = stop
          @lease_duration = lease_duration.ceil # the API field is an int32
          @renew_deadline = renew_deadline
          @retry_period = retry_period
          @clock = clock
          @monotonic = monotonic
          @leader = false
          @valid_until = nil
          @observed = nil
          @observed_at = nil
        end

        # True while this process holds the lease and no other can yet think it expired.
        def leader?
          @leader && @monotonic.call < @valid_until
        end

        # HTTP timeouts for the lease client: a whole renewal (GET + PUT) fits in the renew
        # deadline, so a slow API server makes renewal fail in time rather than hang past it.
        def self.http_timeouts(renew_deadline)
          each = renew_deadline / 4.0
          { open: each, read: each }
        end

        # Blocks until leadership is acquired (returns true) or stop is signalled (false).
        def acquire
          until @stop.stopped?
            if try_acquire_or_renew
              @leader = true
              return true
            end

            @stop.wait(@retry_period)
          end
          false
        end

        # Renews until stop (returns :stopped) or until no renewal has succeeded within the renew
        # deadline (:lost). No renewal starts past the deadline; one that started before it and
        # succeeds extends it, since others saw it only after it started.
        def hold
          until @stop.wait(next_wait)
            try_acquire_or_renew if @monotonic.call < @valid_until
            next if @monotonic.call < @valid_until

            @leader = false
            @logger.warn("leadership lost: no renewal within the renew deadline", lease: "#{@namespace}/#{@name}")
            return :lost
          end
          :stopped
        end

        def release
          return unless @leader

          @leader = false
          lease = @api.get(@name, @namespace)
          return unless lease && lease.dig(:spec, :holderIdentity) == @identity

          spec = lease[:spec].merge(holderIdentity: nil, leaseDurationSeconds: 1, renewTime: micro_time(@clock.call))
          @api.update(lease.merge(spec: spec))
          @logger.info("lease released", lease: "#{@namespace}/#{@name}")
        rescue StandardError => e
          @logger.warn("lease release failed", error: Kube::Errors.describe(e))
        end

        private

        def next_wait
          [@retry_period, @valid_until - @monotonic.call].min.clamp(0.0, @retry_period)
        end

        def try_acquire_or_renew
          started = @monotonic.call
          now = @clock.call
          lease = @api.get(@name, @namespace)
          return create(now, started) if lease.nil?

          spec = lease[:spec] || {}
          observe(spec)
          holder = spec[:holderIdentity]
          return false if holder && !holder.empty? && holder != @identity && !expired?(spec)
          # The deadline passed while this attempt ran (a stalled thread, a slow GET): this
          # process has stopped leading, and a renewal now would only make the others wait a
          # whole lease duration more before they may take over.
          return false if @leader && @monotonic.call >= @valid_until

          transitions = spec[:leaseTransitions].to_i + (holder == @identity ? 0 : 1)
          fresh = spec.merge(holderIdentity: @identity, leaseDurationSeconds: @lease_duration,
                             renewTime: micro_time(now), leaseTransitions: transitions)
          fresh[:acquireTime] = micro_time(now) unless holder == @identity
          written = @api.update(lease.merge(spec: fresh))
          renewed(started, written)
          @logger.info("became leader", lease: "#{@namespace}/#{@name}", identity: @identity) unless @leader
          true
        rescue StandardError => e
          @logger.warn("lease update failed", error: Kube::Errors.describe(e)) unless Kube::Errors.conflict?(e)
          false
        end

        def create(now, started)
          written = @api.create(metadata: { name: @name, namespace: @namespace },
                                spec: { holderIdentity: @identity, leaseDurationSeconds: @lease_duration,
                                        acquireTime: micro_time(now), renewTime: micro_time(now), leaseTransitions: 0 })
          renewed(started, written)
          @logger.info("became leader", lease: "#{@namespace}/#{@name}", identity: @identity)
          true
        end

        def renewed(started, written)
          @valid_until = started + @renew_deadline
          observe(written.is_a?(Hash) ? written[:spec] || {} : {})
        end

        # The record as last seen, and when (on this process's clock) it was first seen so.
        def observe(spec)
          return if spec == @observed

          @observed = spec
          @observed_at = @monotonic.call
        end

        def expired?(spec)
          @monotonic.call >= @observed_at + spec.fetch(:leaseDurationSeconds, @lease_duration).to_i
        end

        def micro_time(time)
          time.utc.strftime("%Y-%m-%dT%H:%M:%S.%6NZ")
        end
      end
    end
  end
end
