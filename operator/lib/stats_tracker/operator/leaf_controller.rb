# frozen_string_literal: true

require_relative "conditions"
require_relative "duration"
require_relative "reconcilers/schedule"
require_relative "controller/store"
require_relative "controller/outcome_handler"
require_relative "controller/write_conflicts"

module StatsTracker
  module Operator
    # The Leaf step of a KindController: runs the Leaf reconciler, writes the status it returns
    # (only when it changed), records events and metrics, and schedules the next look. One
    # status write per cycle; a second one (Reconciling=True, WaitingForGitHubBudget) only when
    # the read has to wait for a GitHub token.
    class LeafController
      KIND = :leaf
      DOWNLOADS = "stats_tracker_package_downloads_total"
      LAST_SUCCESS = "stats_tracker_leaf_last_success_timestamp_seconds"
      READY = "stats_tracker_leaf_ready"
      INTERVAL = "stats_tracker_leaf_interval_seconds"
      PER_LEAF = [DOWNLOADS, LAST_SUCCESS, READY, INTERVAL].freeze

      def initialize(api:, store:, reconciler:, queue:, events:, metrics:, logger:,
                     on_rate_limited: ->(_seconds) {}, on_leaf_changed: ->(_leaf) {})
        @reconciler = reconciler
        @metrics = metrics
        # The watch event for a status write will find the cache already up to date, so the
        # Project is told here.
        @outcomes = Controller::OutcomeHandler.new(api: api, store: store, queue: queue, events: events, logger: logger,
                                                   kind: KIND, on_rate_limited: on_rate_limited,
                                                   conflicts: Controller::WriteConflicts.new(metrics: metrics,
                                                                                             logger: logger),
                                                   on_written: on_leaf_changed)
      end

      # The object is gone: its ETag and its metric go too.
      def forget(leaf)
        @reconciler.forget(leaf.dig(:metadata, :uid))
        PER_LEAF.each { |name| @metrics.remove(name, download_labels(leaf)) }
      end

      # One reconcile of a cached Leaf (KindController hands it over).
      def reconcile(key, leaf)
        outcome = @reconciler.reconcile(leaf)
        written = @outcomes.write_status(leaf, outcome.status)
        return conflicted(leaf) unless written

        record(written, outcome)
        @outcomes.schedule(key, written, outcome)
      end

      private

      # The status was not written (the Leaf changed since it was read) and the Leaf is queued
      # again. The page's ETag goes: it belongs to a count that was never stored, and a 304 for it
      # would make the next read keep the count the status has now.
      def conflicted(leaf)
        @reconciler.forget(leaf.dig(:metadata, :uid))
        :conflict
      end

      def record(leaf, outcome)
        record_metrics(leaf, outcome)
        @outcomes.record(leaf, outcome)
      end

      # What the alerts need per Leaf: is it Ready, how old is its count (time() minus the last
      # success), and how old may it be (its interval).
      def record_metrics(leaf, outcome)
        labels = download_labels(leaf)
        count = leaf.dig(:status, :downloadCount)
        @metrics.set(DOWNLOADS, labels, count) if count
        @metrics.set(LAST_SUCCESS, labels, Time.now.to_f) if outcome.fetched && !outcome.failed?
        ready = Conditions.find(leaf.dig(:status, :conditions), Conditions::READY)
        @metrics.set(READY, labels, ready && ready[:status] == "True" ? 1 : 0)
        @metrics.set(INTERVAL, labels, Duration.parse(leaf.dig(:spec, :interval) || "1h"))
      rescue Duration::InvalidError
        nil # the Leaf is Stalled with InvalidSpec; there is no interval to report
      end

      def download_labels(leaf)
        { namespace: leaf.dig(:metadata, :namespace), owner: leaf.dig(:spec, :owner).to_s,
          package: leaf.dig(:spec, :package).to_s }
      end
    end
  end
end
