# frozen_string_literal: true

require "time"
require_relative "../kube/errors"

module StatsTracker
  module Operator
    module Controller
      # Leader election on a coordination.k8s.io/v1 Lease, with client-go's timings by default
      # (15 s lease, renew every 2 s, give up after 10 s without a successful renewal). Every write
      # is a PUT carrying the resourceVersion read just before, so two candidates can never both
      # win: the loser gets 409. On shutdown the holder clears holderIdentity so a standby takes
      # over at once instead of waiting for the lease to expire.
      class LeaderElection
        attr_reader :identity

        def initialize(api:, namespace:, name:, identity:, logger:, stop:, lease_duration: 15, renew_deadline: 10,
                       retry_period: 2, clock: -> { Time.now })
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
          @leader = false
          @last_renewal = nil
        end

        def leader?
          @leader
        end

        # Blocks until leadership is acquired (returns true) or stop is signalled (false).
        def acquire
          until @stop.stopped?
            return (@leader = true) if try_acquire_or_renew

            @stop.wait(@retry_period)
          end
          false
        end

        # Renews until stop (returns :stopped) or until renewal fails past the deadline (:lost).
        def hold
          @last_renewal = monotonic
          until @stop.wait(@retry_period)
            if try_acquire_or_renew
              @last_renewal = monotonic
            elsif monotonic - @last_renewal > @renew_deadline
              @leader = false
              return :lost
            end
          end
          :stopped
        end

        def release
          return unless @leader

          lease = @api.get(@name, @namespace)
          return unless lease && lease.dig(:spec, :holderIdentity) == @identity

          spec = lease[:spec].merge(holderIdentity: nil, leaseDurationSeconds: 1, renewTime: micro_time(@clock.call))
          @api.update(lease.merge(spec: spec))
          @leader = false
          @logger.info("lease released", lease: "#{@namespace}/#{@name}")
        rescue StandardError => e
          @logger.warn("lease release failed", error: Kube::Errors.describe(e))
        end

        private

        def try_acquire_or_renew
          now = @clock.call
          lease = @api.get(@name, @namespace)
          return create(now) if lease.nil?

          spec = lease[:spec] || {}
          holder = spec[:holderIdentity]
          if holder && !holder.empty? && holder != @identity && !expired?(spec, now)
            return false
          end

          transitions = spec[:leaseTransitions].to_i + (holder == @identity ? 0 : 1)
          fresh = spec.merge(holderIdentity: @identity, leaseDurationSeconds: @lease_duration,
                             renewTime: micro_time(now), leaseTransitions: transitions)
          fresh[:acquireTime] = micro_time(now) unless holder == @identity
          @api.update(lease.merge(spec: fresh))
          @logger.info("became leader", lease: "#{@namespace}/#{@name}", identity: @identity) unless @leader
          true
        rescue StandardError => e
          @logger.warn("lease update failed", error: Kube::Errors.describe(e)) unless Kube::Errors.conflict?(e)
          false
        end

        def create(now)
          @api.create(metadata: { name: @name, namespace: @namespace },
                      spec: { holderIdentity: @identity, leaseDurationSeconds: @lease_duration,
                              acquireTime: micro_time(now), renewTime: micro_time(now), leaseTransitions: 0 })
          @logger.info("became leader", lease: "#{@namespace}/#{@name}", identity: @identity)
          true
        end

        def expired?(spec, now)
          renew = spec[:renewTime] || spec[:acquireTime]
          return true unless renew

          Time.parse(renew) + spec.fetch(:leaseDurationSeconds, @lease_duration).to_i < now
        end

        def micro_time(time)
          time.utc.strftime("%Y-%m-%dT%H:%M:%S.%6NZ")
        end

        def monotonic
          Process.clock_gettime(Process::CLOCK_MONOTONIC)
        end
      end
    end
  end
end
