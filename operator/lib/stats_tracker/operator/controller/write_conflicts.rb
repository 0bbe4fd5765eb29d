# frozen_string_literal: true

require_relative "../kube/errors"

module StatsTracker
  module Operator
    module Controller
      # What to do when the API server refuses a write with 409 Conflict. Every write the
      # controllers make carries the resourceVersion it was based on, so a 409 means someone wrote
      # the object since it was read: a user, another worker, or another replica that leads now.
      # Sending the same write again would overwrite what they wrote, so the object is re-read
      # into the cache and the caller decides again from what is there now. A conflict is a
      # normal part of concurrency, not a failure: it is counted, logged at debug level, and
      # never becomes a condition, an event or a backoff.
      class WriteConflicts
        METRIC = "stats_tracker_write_conflicts_total"

        def self.register_metrics(metrics)
          metrics.counter(METRIC, "Writes refused because the object changed since it was read (409), by resource")
        end

        def self.conflict?(error)
          Kube::Errors.conflict?(error)
        end

        def initialize(metrics:, logger:)
          @metrics = metrics
          @logger = logger
        end

        # The write of `object` through `api` was refused: re-read it into `store`. Returns the
        # object as the API server has it now, or nil when it is gone (its DELETED event follows).
        def refresh(api:, store:, object:, what:)
          meta = object[:metadata]
          @metrics.increment(METRIC, resource: api.plural)
          fresh = api.get(meta[:name], meta[:namespace])
          store.put(fresh) if fresh
          @logger.debug("write conflict: re-read", what: what, resource: api.plural,
                                                   object: "#{meta[:namespace]}/#{meta[:name]}",
                                                   read: meta[:resourceVersion],
                                                   now: fresh&.dig(:metadata, :resourceVersion))
          fresh
        end
      end
    end
  end
end
