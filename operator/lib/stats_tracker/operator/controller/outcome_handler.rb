# frozen_string_literal: true

require_relative "store"
require_relative "object_key"
require_relative "write_conflicts"
require_relative "../duration"
require_relative "../status_diff"

module StatsTracker
  module Operator
    module Controller
      # What every controller does with a reconciler's Outcome, in one place: write the status
      # (only when it changed), record the event, and schedule the next look in the work queue.
      class OutcomeHandler
        # GitHub answered 429 without Retry-After: it still asks every client of ours to slow
        # down, so all GitHub requests pause this long (its documented advice is at least a minute).
        RATE_LIMIT_PAUSE = 60.0
        # A failing object is retried no less often than this fraction of its interval, so a long
        # interval does not turn a lasting failure into a retry every few minutes.
        BACKOFF_CAP_FRACTION = 0.25

        # kind: the ObjectKey kind of the objects it handles. on_written: called with each object
        # a status write returned (the Leaf controller tells the Project that owns it), and with
        # one re-read after a conflict whose status another writer changed.
        def initialize(api:, store:, queue:, events:, logger:, kind:, on_rate_limited:, conflicts:,
                       on_written: ->(_object) {})
          @api = api
          @conflicts = conflicts
          @store = store
          @queue = queue
          @events = events
          @logger = logger
          @kind = kind
          @on_rate_limited = on_rate_limited
          @on_written = on_written
        end

        # Writes the status computed from `object`, on condition that the object is still the
        # version read (its resourceVersion). Returns the object as now cached, or nil when the
        # API server refused the write because the object changed since (409): then it has been
        # re-read into the cache and queued to be decided again, and nothing else is to be done
        # with this outcome.
        def write_status(object, status)
          return object unless status && StatusDiff.changed?(object[:status], status)

          meta = object[:metadata]
          written = @api.apply_status(name: meta[:name], namespace: meta[:namespace], status: StatusDiff.compact(status),
                                      resource_version: meta[:resourceVersion])
          @store.put(written)
          @on_written.call(written)
          @store.get(Store.key_for(written)) || written
        rescue Kubeclient::HttpError => e
          raise unless WriteConflicts.conflict?(e)

          conflicted(object)
        end

        def record(object, outcome)
          return unless outcome.event

          type, reason, note = outcome.event
          @events.record(object, type: type, reason: reason, note: note)
        end

        # Returns :success, :skipped, :waiting or :error (the reconcile metric's result label).
        def schedule(key, object, outcome)
          interval = Duration.interval(object.dig(:spec, :interval) || "1h")
          return failed(key, outcome.failure, interval) if outcome.failed?
          return waiting(key, outcome.requeue_after) if outcome.waiting?

          @queue.forget(key) if outcome.fetched
          @queue.add_after(key, outcome.requeue_after, reason: :interval) if outcome.requeue_after
          reason, left = @queue.next_due(key)
          @logger.debug("next reconcile", key: key.to_s, reason: reason, in: left&.round(2))
          outcome.fetched ? :success : :skipped
        rescue Duration::InvalidError
          :error
        end

        private

        # The re-read object's watch event will find the cache already holding it, so its event
        # handlers would not see a user's change or another writer's status: say so here.
        def conflicted(object)
          fresh = @conflicts.refresh(api: @api, store: @store, object: object, what: "status")
          return nil unless fresh

          @queue.add(ObjectKey.for(@kind, fresh))
          @on_written.call(fresh) if fresh[:status] != object[:status]
          nil
        end

        # Waiting for GitHub is neither a success nor a failure: a pending retry and the failure
        # count stay as they are.
        def waiting(key, seconds)
          @queue.add_after(key, seconds, reason: :github_budget)
          @logger.debug("waiting for the GitHub budget", key: key.to_s, in: seconds.round(2))
          :waiting
        end

        def failed(key, failure, interval)
          pause(failure)
          delay = if failure.stalled
                    interval.tap { |d| @queue.retry_after(key, d) }
                  else
                    @queue.add_rate_limited(key, at_least: failure.retry_after.to_f,
                                                 cap: interval * BACKOFF_CAP_FRACTION)
                  end
          @logger.warn("reconcile failed", key: key.to_s, reason: failure.reason, message: failure.message,
                                           retry_in: delay.round(2))
          :error
        end

        def pause(failure)
          return unless failure.reason == "RateLimited"

          @on_rate_limited.call(failure.retry_after || RATE_LIMIT_PAUSE)
        end
      end
    end
  end
end
