# frozen_string_literal: true

require_relative "status_diff"
require_relative "reconcilers/schedule"
require_relative "controller/store"
require_relative "controller/outcome_handler"
require_relative "controller/write_conflicts"
require_relative "kube/errors"
require_relative "leaf_controller"

module StatsTracker
  module Operator
    # The API side of Project reconciliation: server-side-applies the Leafs the Project reconciler
    # wants (only those missing or different), deletes the Leafs it controls that are no longer
    # listed, writes the aggregate status when it changed, and schedules the next listing read.
    # Leaf deletion when the Project goes away is left to the garbage collector (ownerReferences,
    # controller=true): no finalizer, so nothing can be left stuck if the operator is down.
    class ProjectController
      KIND = :project
      # Many Leafs report within moments of each other; aggregate them in one Project write
      # (KindController#owns).
      AGGREGATE_DELAY = 1.0
      # The resourceVersion a new Leaf is applied with: etcd's first revision, which no object of
      # ours can carry, so the apply creates or is refused (the java-operator-sdk's way to make
      # a server-side apply create-only).
      CREATE_ONLY = "1"

      def initialize(api:, leaf_api:, store:, leaf_store:, reconciler:, queue:, events:, metrics:, logger:,
                     on_rate_limited: ->(_seconds) {})
        @leaf_api = leaf_api
        @leaf_store = leaf_store
        @reconciler = reconciler
        @queue = queue
        @metrics = metrics
        @logger = logger
        @conflicts = Controller::WriteConflicts.new(metrics: metrics, logger: logger)
        @outcomes = Controller::OutcomeHandler.new(api: api, store: store, queue: queue, events: events, logger: logger,
                                                   kind: KIND, on_rate_limited: on_rate_limited, conflicts: @conflicts)
        @desired = {}
        @lock = Mutex.new
      end

      # The Project is gone (its Leafs go with it, by garbage collection).
      def forget(project)
        uid = project.dig(:metadata, :uid)
        @lock.synchronize { @desired.delete(uid) }
        @reconciler.forget(uid)
      end

      # One reconcile of a cached Project (KindController hands it over).
      def reconcile(key, project)
        plan = @reconciler.reconcile(project, owned_leaves: owned_leaves(project), taken_names: taken_names(project),
                                              listing_held: listing_held?(key))
        # A Leaf that changed since it was read is re-read; the Project is decided again from
        # there, before its status can say its Leafs are in place.
        return conflicted(key) unless sync_leaves(project, plan.desired_leaves, plan.deletions)

        outcome = plan.outcome
        project = @outcomes.write_status(project, outcome.status) or return :conflict
        @outcomes.record(project, outcome)
        @outcomes.schedule(key, project, outcome)
      end

      private

      # Leaf events re-run a Project to aggregate; they must not cut a listing backoff short.
      # The retry itself stays in the queue's schedule, so it still comes when due.
      def listing_held?(key)
        left = @queue.pending(key, Controller::WorkQueue::RETRY)
        !left.nil? && left.positive?
      end

      def owned_leaves(project)
        uid = project.dig(:metadata, :uid)
        ns = project.dig(:metadata, :namespace)
        @leaf_store.all.select { |l| l.dig(:metadata, :namespace) == ns && controller_ref(l)&.dig(:uid) == uid }
      end

      def taken_names(project)
        uid = project.dig(:metadata, :uid)
        ns = project.dig(:metadata, :namespace)
        @leaf_store.all.select { |l| l.dig(:metadata, :namespace) == ns && controller_ref(l)&.dig(:uid) != uid }
                   .map { |l| l.dig(:metadata, :name) }
      end

      def controller_ref(leaf)
        Array(leaf.dig(:metadata, :ownerReferences)).find { |ref| ref[:controller] }
      end

      def conflicted(key)
        @queue.add(key)
        :conflict
      end

      # desired nil = the listing was not read this time: re-apply the last known set, so a Leaf
      # deleted by hand comes back without a GitHub request. Returns false when a Leaf had
      # changed since it was read (a conflict): it has been re-read, and the rest were still done.
      def sync_leaves(project, desired, deletions)
        uid = project.dig(:metadata, :uid)
        in_place = true
        if desired
          @lock.synchronize { @desired[uid] = desired }
          in_place = delete_unlisted(project, deletions)
        else
          desired = @lock.synchronize { @desired[uid] }
          return true unless desired
        end
        # One Leaf the API server refuses must not keep the others from being applied.
        results = desired.each_value.map do |body|
          apply_leaf(body)
        rescue StandardError => e
          e
        end
        errors = results.grep(StandardError)
        raise errors.first unless errors.empty?

        in_place && !results.include?(:conflict)
      end

      # Applied on condition that the Leaf is the version read: an existing one with its
      # resourceVersion, a new one with a resourceVersion no object can have, which server-side
      # apply ignores when it creates and refuses (409) when the Leaf exists after all (created
      # by another replica, or by this one while the cache lagged).
      def apply_leaf(body)
        meta = body[:metadata]
        existing = @leaf_store.get("#{meta[:namespace]}/#{meta[:name]}")
        return :unchanged if existing && same_leaf?(existing, body)

        applied = StatusDiff.compact(body)
        version = existing&.dig(:metadata, :resourceVersion) || CREATE_ONLY
        @leaf_api.apply(applied.merge(metadata: applied[:metadata].merge(resourceVersion: version)), force: true)
        @logger.info("leaf applied", leaf: "#{meta[:namespace]}/#{meta[:name]}", package: body.dig(:spec, :package))
        :applied
      rescue StandardError => e
        return leaf_conflict(existing, body, "apply") if Controller::WriteConflicts.conflict?(e)

        @logger.warn("leaf apply failed", leaf: meta[:name], error: Kube::Errors.describe(e))
        raise
      end

      # cached: the Leaf as this cache had it (nil: not at all); body: what was sent.
      def leaf_conflict(cached, body, what)
        fresh = @conflicts.refresh(api: @leaf_api, store: @leaf_store, object: cached || body, what: what)
        leaf_reread(fresh, cached) if fresh
        :conflict
      end

      # The re-read Leaf's watch event will find the cache already holding it: if it is new to
      # this cache or a user changed it, the Leaf controller is told here.
      def leaf_reread(fresh, cached)
        return unless Reconcilers::Schedule.changed_by_user?(fresh, cached)

        @queue.add(Controller::ObjectKey.for(LeafController::KIND, fresh))
      end

      def same_leaf?(existing, body)
        spec = existing[:spec] || {}
        body[:spec].all? { |k, v| spec[k] == v } &&
          Array(existing.dig(:metadata, :ownerReferences))
            .any? { |r| r[:uid] == body.dig(:metadata, :ownerReferences, 0, :uid) } &&
          (existing.dig(:metadata, :labels) || {}).slice(*body.dig(:metadata, :labels).keys) == body.dig(:metadata, :labels)
      end

      # Returns false when a Leaf to delete kept changing under the delete.
      def delete_unlisted(project, deletions)
        owned_leaves(project).map do |leaf|
          next true unless deletions.include?(leaf.dig(:metadata, :name))

          delete_leaf(project, leaf)
        end.all?
      end

      # Deleted on condition that it is the version read. The decision rests on the listing and
      # on the Project controlling the Leaf, not on the Leaf's status, so after a conflict (most
      # often the Leaf's own status write) it is made once more on the re-read Leaf: the same
      # object, still this Project's.
      def delete_leaf(project, leaf, attempts: 2)
        name = leaf.dig(:metadata, :name)
        @leaf_api.delete(name, leaf.dig(:metadata, :namespace), uid: leaf.dig(:metadata, :uid),
                                                                resource_version: leaf.dig(:metadata, :resourceVersion))
        @logger.info("leaf deleted: package no longer listed", leaf: name, package: leaf.dig(:spec, :package))
        true
      rescue Kubeclient::HttpError => e
        raise unless Controller::WriteConflicts.conflict?(e)

        fresh = @conflicts.refresh(api: @leaf_api, store: @leaf_store, object: leaf, what: "delete")
        return true if fresh.nil? # gone already

        leaf_reread(fresh, leaf)
        return false unless attempts > 1 && still_ours?(fresh, leaf, project)

        delete_leaf(project, fresh, attempts: attempts - 1)
      end

      def still_ours?(fresh, leaf, project)
        fresh.dig(:metadata, :uid) == leaf.dig(:metadata, :uid) &&
          controller_ref(fresh)&.dig(:uid) == project.dig(:metadata, :uid)
      end
    end
  end
end
