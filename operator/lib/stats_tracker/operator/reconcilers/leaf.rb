# frozen_string_literal: true

require_relative "leaf_versions"
require_relative "outcome"
require_relative "page_errors"
require_relative "schedule"
require_relative "summary"
require_relative "../conditions"
require_relative "../duration"

module StatsTracker
  module Operator
    module Reconcilers
      # Computes a Leaf's desired status from the Leaf and the world: the package page (fetched
      # through the shared rate limiter, with If-None-Match) parsed by the wasm parser, and the
      # clock. It performs no Kubernetes I/O; the controller applies what it returns.
      class Leaf
        HISTORY_LIMIT = 30
        # The CRD's limits: status counts are int64, and last30Days holds at most this many bars.
        INT64_MAX = (2**63) - 1
        CHART_LIMIT = 62

        # fetcher_for: ->(leaf) { StatsTracker::Fetcher } (per GitHub token)
        # acquire: ->(leaf) { seconds } takes a GitHub token for the Leaf and returns 0.0, or returns
        #   how long until its turn (Float::INFINITY: shutting down, no turn will come); never waits
        # on_observation: ->(leaf, PackageStats, Time, versions:) for every page read, with the
        #   tags read when spec.versions asks for them (the history store's recorder); it must
        #   return at once and never raise.
        # acquire_spare, on_rate_limited: see LeafVersions.
        def initialize(fetcher_for:, parser:, acquire:, clock: -> { Time.now }, random: Random.new,
                       on_github_response: ->(_status) {}, on_observation: ->(_leaf, _stats, _at, versions: nil) {},
                       acquire_spare: -> { true }, on_rate_limited: ->(_seconds) {})
          @versions = LeafVersions.new(parser: parser, acquire_spare: acquire_spare, on_github_response: on_github_response,
                                       on_rate_limited: on_rate_limited)
          @fetcher_for = fetcher_for
          @parser = parser
          @acquire = acquire
          @clock = clock
          @random = random
          @on_github_response = on_github_response
          @on_observation = on_observation
          @etags = {}
          @etag_lock = Mutex.new
        end

        def reconcile(leaf)
          now = @clock.call
          status = leaf[:status] || {}
          interval = Duration.interval(leaf.dig(:spec, :interval) || "1h")
          return suspended(leaf, status) if leaf.dig(:spec, :suspend)

          wait = Schedule.due_in(leaf, interval: interval, now: now)
          return Outcome.new(status: status, requeue_after: wait) if wait.positive?

          read_page(leaf, status, interval, now)
        rescue Duration::InvalidError => e
          stalled(leaf, status, Failure.new(reason: "InvalidSpec", message: e.message, stalled: true), now)
        end

        def forget(uid)
          @etag_lock.synchronize { @etags.delete(uid) }
        end

        private

        def read_page(leaf, status, interval, now)
          wait = @acquire.call(leaf)
          return Outcome.new(status: status) if wait.infinite?
          return waiting(leaf, status, wait, now) if wait.positive?

          stats, etag = fetch_and_parse(leaf, status)
          outcome = succeeded(leaf, status, stats, interval, now)
          versions = @versions.refresh(leaf, outcome.status, fetcher: -> { @fetcher_for.call(leaf) }, now: now)
          @on_observation.call(leaf, stats, now, versions: versions.versions) if stats
          remember_etag(leaf, etag)
          outcome.tap { |o| o.status = versions.status }
        rescue StatsTracker::Error, SystemCallError, IOError => e
          failure = e.is_a?(PageFailure) ? e.failure : PageErrors.from_exception(e, what: package_label(leaf))
          failure.stalled ? stalled(leaf, status, failure, now) : failed(leaf, status, failure, now)
        end

        # Raised inside fetch_and_parse to carry a Failure built from the page itself.
        class PageFailure < StatsTracker::Error
          attr_reader :failure

          def initialize(failure)
            @failure = failure
            super(failure.message)
          end
        end

        def fetch_and_parse(leaf, status)
          spec = leaf[:spec]
          etag = status[:downloadCount] ? known_etag(leaf) : nil
          page = @fetcher_for.call(leaf).package_page(owner: spec[:owner], package: spec[:package],
                                                      owner_type: (spec[:ownerType] || "org").to_sym, etag: etag)
          @on_github_response.call(page.status)
          return [nil, etag] if page.not_modified?

          [parse(page, leaf), page.etag]
        rescue StatsTracker::FetchError => e
          @on_github_response.call(e.status || "error")
          raise
        end

        def parse(page, leaf)
          stats = @parser.package(page.body)
          raise PageFailure, PageErrors.from_status(page, what: package_label(leaf)) unless page.status == 200

          check_range(stats, leaf)
        rescue StatsTracker::ParseError => e
          failure = PageErrors.from_parse(e, what: package_label(leaf))
          failure.retry_after ||= page.retry_after if page.respond_to?(:retry_after)
          raise PageFailure, failure
        end

        # A count the status cannot hold is reported, not written: the API server would refuse the
        # whole status write, and the Leaf would keep retrying with nothing recorded.
        def check_range(stats, leaf)
          counts = [stats.total_downloads] + Array(stats.last_30_days).map(&:count)
          return stats if counts.all? { |c| c.nil? || c <= INT64_MAX }

          raise PageFailure, Failure.new(reason: "CountOutOfRange", stalled: true,
                                         message: "#{package_label(leaf)}: a count on the page exceeds 2^63-1")
        end

        # A Leaf that reads versions reads the whole page each time, so every versions read comes
        # with the count it belongs to.
        def known_etag(leaf)
          return nil if LeafVersions.enabled?(leaf)

          @etag_lock.synchronize { @etags[leaf.dig(:metadata, :uid)] }
        end

        def remember_etag(leaf, etag)
          uid = leaf.dig(:metadata, :uid)
          @etag_lock.synchronize { etag ? @etags[uid] = etag : @etags.delete(uid) }
        end

        # stats nil = 304 Not Modified: the count is what we stored.
        def succeeded(leaf, status, stats, interval, now)
          generation = leaf.dig(:metadata, :generation)
          count = stats ? stats.total_downloads : status[:downloadCount]
          fresh = status.merge(
            observedGeneration: generation, downloadCount: count, lastUpdate: Conditions.timestamp(now),
            history: history(status[:history], count, now),
            conditions: summarize(leaf, status, :succeeded, "Succeeded", "#{count} downloads", now)
          )
          fresh.merge!(stats_fields(stats)) if stats
          fresh[:lastHandledReconcileAt] = Schedule.requested_at(leaf) if Schedule.requested_at(leaf)
          Outcome.new(status: fresh, requeue_after: Schedule.jittered(interval, @random), fetched: true)
        end

        def stats_fields(stats)
          days = stats.last_30_days&.sort_by(&:date)&.last(CHART_LIMIT)
                      &.map { |d| { date: d.date.to_s, count: d.count } }
          fields = { lastPublished: stats.last_published }
          days ? fields.merge(last30Days: days) : fields
        end

        def summarize(leaf, status, state, reason, message, now)
          Summary.conditions(status[:conditions], Result.new(state: state, reason: reason, message: message),
                             generation: leaf.dig(:metadata, :generation), now: now)
        end

        # History records changes only, so an unchanged count costs no history entry.
        def history(previous, count, now)
          list = Array(previous).map(&:to_h)
          return list if list.last && list.last[:downloadCount] == count

          (list + [{ time: Conditions.timestamp(now), downloadCount: count }]).last(HISTORY_LIMIT)
        end

        def failed(leaf, status, failure, now)
          conditions = summarize(leaf, status, :failed, failure.reason, failure.message, now)
          Outcome.new(status: with_request(leaf, status.merge(conditions: conditions)), failure: failure,
                      event: ["Warning", failure.reason, failure.message], fetched: true)
        end

        def stalled(leaf, status, failure, now)
          generation = leaf.dig(:metadata, :generation)
          conditions = summarize(leaf, status, :stalled, failure.reason, failure.message, now)
          fresh = with_request(leaf, status.merge(conditions: conditions, observedGeneration: generation))
          Outcome.new(status: fresh, failure: failure, event: ["Warning", failure.reason, failure.message], fetched: true)
        end

        # No GitHub token now: come back at the Leaf's turn, the worker meanwhile free for others.
        def waiting(leaf, status, seconds, now)
          conditions = Summary.waiting_for_budget(status[:conditions], seconds, generation: leaf.dig(:metadata, :generation),
                                                                                now: now)
          Outcome.new(status: status.merge(conditions: conditions), requeue_after: seconds, waiting: true)
        end

        # Suspended: no request; the new generation is acknowledged so kstatus does not report
        # the object as in progress forever.
        def suspended(leaf, status)
          conditions = summarize(leaf, status, :suspended, nil, nil, @clock.call)
          fresh = with_request(leaf, status.merge(observedGeneration: leaf.dig(:metadata, :generation),
                                                  conditions: conditions))
          Outcome.new(status: fresh)
        end

        def with_request(leaf, status)
          token = Schedule.requested_at(leaf)
          token ? status.merge(lastHandledReconcileAt: token) : status
        end

        def package_label(leaf)
          "#{leaf.dig(:spec, :owner)}/#{leaf.dig(:spec, :package)}"
        end
      end
    end
  end
end
