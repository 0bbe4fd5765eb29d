# frozen_string_literal: true

require "time"
require_relative "../duration"
require_relative "../conditions"

module StatsTracker
  module Operator
    module Reconcilers
      # When an object needs real work (a GitHub request) rather than a look at its status:
      # a new generation, a reconcile.fluxcd.io/requestedAt token not yet handled, a status that
      # is not Ready, or its interval having passed since the last successful read.
      module Schedule
        REQUESTED_AT = :"reconcile.fluxcd.io/requestedAt"
        # A timer firing a little early must still count as due, or the object would be skipped
        # and its next look pushed out by a whole interval.
        EARLY_TOLERANCE = 0.5

        module_function

        def requested_at(object)
          object.dig(:metadata, :annotations, REQUESTED_AT)
        end

        # Whether a watch event asks for a reconcile: a new object, a new generation or a new
        # requestedAt token. Status-only changes (usually our own writes) do not.
        def changed_by_user?(object, previous)
          return true if previous.nil?

          object.dig(:metadata, :generation) != previous.dig(:metadata, :generation) ||
            requested_at(object) != requested_at(previous)
        end

        def request_pending?(object)
          token = requested_at(object)
          !token.nil? && token != object.dig(:status, :lastHandledReconcileAt)
        end

        def generation_pending?(object)
          object.dig(:metadata, :generation) != object.dig(:status, :observedGeneration)
        end

        # Seconds until the object is due (<= 0 means due now).
        def due_in(object, interval:, now:)
          return 0 if generation_pending?(object) || request_pending?(object)
          return 0 unless Conditions.true?(object.dig(:status, :conditions), Conditions::READY)

          last = object.dig(:status, :lastUpdate)
          return 0 unless last

          (Time.parse(last) + interval - now).then { |left| left <= EARLY_TOLERANCE ? 0 : left }
        rescue ArgumentError
          0
        end

        # Requeue a little after the interval, spread so Leafs created together drift apart.
        def jittered(interval, random)
          interval + (random.rand * [interval * 0.05, 30].min)
        end
      end
    end
  end
end
