# frozen_string_literal: true

require "set"
require "stats_tracker/listing_chain"
require_relative "deletion_guard"
require_relative "leaf"
require_relative "listing_progress"
require_relative "outcome"
require_relative "page_errors"
require_relative "schedule"
require_relative "summary"
require_relative "../conditions"
require_relative "../duration"
require_relative "../names"

module StatsTracker
  module Operator
    module Reconcilers
      # Computes what a Project wants: the Leafs (one per listed package, filtered by
      # include/exclude) and an aggregate status. Reading the listing is the only GitHub work and
      # happens only when due; otherwise the Project just re-aggregates its Leafs' counts.
      class Project
        GROUP_VERSION = "stats-tracker.dev/v1alpha1"
        PROJECT_LABEL = "stats-tracker.dev/project"
        # Flux's shard label: a Project's Leafs carry its value, so the shard that reconciles the
        # Project (WATCH_LABEL_SELECTOR) also sees and reconciles its Leafs.
        SHARD_LABEL = :"sharding.fluxcd.io/key"
        MAX_PAGES = 100
        # Listing pages one reconcile reads at most before it lets the worker go (and the Project
        # goes to the back of the queue), however much budget there is.
        PAGES_PER_TURN = 10
        LEAVES_READY = "LeavesReady"

        # Result of a Project reconcile: desired_leaves nil means "listing not read, leave the
        # Leaf set as it is"; deletions names the owned Leafs to delete (never more than the
        # DeletionGuard and the user's include/exclude patterns allow).
        Plan = Struct.new(:outcome, :desired_leaves, :deletions, keyword_init: true) do
          def initialize(outcome:, desired_leaves: nil, deletions: [])
            super
          end
        end

        # acquire: ->(project, listing: true) { seconds } takes a GitHub token (see Leaf#initialize)
        #   for a listing read, which goes ahead of the Leaf reads waiting in its namespace; never waits.
        def initialize(fetcher_for:, parser:, acquire:, clock: -> { Time.now }, random: Random.new,
                       on_github_response: ->(_status) {})
          @fetcher_for = fetcher_for
          @parser = parser
          @acquire = acquire
          @clock = clock
          @random = random
          @on_github_response = on_github_response
          @guard = DeletionGuard.new
          @progress = ListingProgress.new(clock: clock)
        end

        # The Project is gone: drop what the deletion guard and a listing in progress remember of it.
        def forget(uid)
          @guard.forget(uid)
          @progress.forget(uid)
        end

        # owned_leaves: the Leafs in the cache whose controller owner is this Project.
        # taken_names: names of Leafs in the namespace controlled by something else.
        # listing_held: a failed listing is waiting out its backoff; only re-aggregate.
        def reconcile(project, owned_leaves:, taken_names: [], listing_held: false)
          now = @clock.call
          status = project[:status] || {}
          interval = Duration.interval(project.dig(:spec, :interval) || "1h")
          return suspended(project, status, owned_leaves) if project.dig(:spec, :suspend)

          wait = listing_held && !user_waiting?(project) ? interval : Schedule.due_in(project, interval: interval, now: now)
          return aggregate_only(project, status, owned_leaves, wait) if wait.positive?

          turn = @acquire.call(project, listing: true)
          return Plan.new(outcome: Outcome.new(status: status)) if turn.infinite?
          return waiting(project, status, owned_leaves, turn) if turn.positive?

          read(project, status, owned_leaves, taken_names, interval, now)
        rescue Duration::InvalidError => e
          failure = Failure.new(reason: "InvalidSpec", message: e.message, stalled: true)
          Plan.new(outcome: failed(project, status, failure, now, owned_leaves))
        rescue StatsTracker::IncompleteListingError => e
          @progress.forget(project.dig(:metadata, :uid))
          failure = Failure.new(reason: "ListingIncomplete",
                                message: "listing of #{project.dig(:spec, :owner)} not read to its end (#{e.reason}): " \
                                         "#{e.message}; no Leaf deleted")
          Plan.new(outcome: failed(project, status, failure, now, owned_leaves))
        rescue StatsTracker::Error, SystemCallError, IOError => e
          @progress.forget(project.dig(:metadata, :uid))
          failure = PageErrors.from_exception(e, what: "listing of #{project.dig(:spec, :owner)}")
          Plan.new(outcome: failed(project, status, failure, now, owned_leaves))
        end

        # Desired Leaf bodies for server-side apply, keyed by Leaf name.
        def desired_leaves(project, packages, taken_names)
          spec = project[:spec]
          meta = project[:metadata]
          names = Names.leaf_names(project: meta[:name], packages: packages.map(&:name))
          packages.each_with_object({}) do |pkg, out|
            name = names.fetch(pkg.name)
            name = Names.disambiguate(name, project: meta[:name], package: pkg.name) if taken_names.include?(name)
            out[name] = leaf_body(name, meta, spec, pkg)
          end
        end

        private

        # A new generation or requestedAt token is handled at once, even during a backoff (as
        # Flux does); the GitHub rate limiter still decides when the request goes out.
        def user_waiting?(project)
          Schedule.generation_pending?(project) || Schedule.request_pending?(project)
        end

        # Reads on from where the last turn stopped. Only a listing whose every page was read in
        # one pass is complete; only then are Leafs applied and (by the deletion rule) deleted.
        def read(project, status, owned_leaves, taken_names, interval, now)
          turn = { pages: 0, wait: 0.0 }
          listed_packages = read_listing(project, turn)
          leaves = desired_leaves(project, filter(listed_packages, project[:spec]), taken_names)
          Plan.new(outcome: listed(project, status, leaves, owned_leaves, interval, now), desired_leaves: leaves,
                   deletions: deletions(project, owned_leaves, leaves, listed_packages))
        rescue StatsTracker::IncompleteListingError => e
          raise unless e.reason == :interrupted && turn[:wait].finite?

          @progress.keep(project, e)
          waiting(project, status, owned_leaves, turn[:wait])
        end

        # Every package of the listing, or IncompleteListingError: a partial list would read as
        # "these packages are gone". Between pages it takes the next token, or stops (:interrupted)
        # when the budget or this turn's share of pages runs out; turn[:wait] is then how long
        # until the next token (0 when only the turn ended, infinite when the process stops).
        def read_listing(project, turn)
          spec = project[:spec]
          fetcher = @fetcher_for.call(project)
          proceed = lambda do
            turn[:pages] += 1
            turn[:wait] = turn[:pages] < PAGES_PER_TURN ? @acquire.call(project, listing: true) : 0.0
            turn[:pages] < PAGES_PER_TURN && turn[:wait].zero?
          end
          chain = ListingChain.new(max_pages: MAX_PAGES, proceed: proceed,
                                   read_page: ->(number) { listing_page(fetcher, spec, number) })
          packages = chain.read(resume: @progress.resume(project))
          @progress.forget(project.dig(:metadata, :uid))
          packages.uniq(&:name)
        end

        # Owned Leafs not wanted any more: at once when the user's patterns dropped the package (or
        # it now goes by another Leaf name), and only through the DeletionGuard when the package is
        # missing from the listing itself.
        def deletions(project, owned_leaves, wanted, listed_packages)
          listed = listed_packages.to_set(&:name)
          unwanted = owned_leaves.reject { |leaf| wanted.key?(leaf.dig(:metadata, :name)) }
          missing, dropped = unwanted.partition { |leaf| !listed.include?(leaf.dig(:spec, :package)) }
          names = ->(leaves) { leaves.map { |leaf| leaf.dig(:metadata, :name) } }
          names.call(dropped) + @guard.confirm(project.dig(:metadata, :uid), names.call(missing))
        end

        def listing_page(fetcher, spec, number)
          page = fetcher.listing_page(owner: spec[:owner], owner_type: (spec[:ownerType] || "org").to_sym, page: number)
          @on_github_response.call(page.status)
          listing = @parser.listing(page.body)
          return listing if page.status == 200

          raise StatsTracker::FetchError.new("HTTP #{page.status} for listing page #{number}", status: page.status)
        rescue StatsTracker::ParseError => e
          raise e unless page.respond_to?(:retry_after) && page.retry_after

          raise StatsTracker::FetchError.new("listing page #{number}: #{e.reason}", status: page.status,
                                                                                    retry_after: page.retry_after)
        end

        def filter(packages, spec)
          include = Array(spec[:include])
          exclude = Array(spec[:exclude])
          packages.select do |pkg|
            (include.empty? || include.any? { |pat| File.fnmatch?(pat, pkg.name, File::FNM_PATHNAME) }) &&
              exclude.none? { |pat| File.fnmatch?(pat, pkg.name, File::FNM_PATHNAME) }
          end
        end

        def leaf_body(name, meta, spec, pkg)
          leaf_spec = { owner: spec[:owner], ownerType: spec[:ownerType] || "org", package: pkg.name,
                        repository: pkg.repository, interval: spec[:interval] || "1h", suspend: false }
          leaf_spec[:secretRef] = spec[:secretRef] if spec[:secretRef]
          leaf_spec[:versions] = spec[:versions] if spec[:versions]
          {
            apiVersion: GROUP_VERSION, kind: "Leaf",
            metadata: {
              name: name, namespace: meta[:namespace], labels: leaf_labels(meta),
              ownerReferences: [{ apiVersion: GROUP_VERSION, kind: "Project", name: meta[:name], uid: meta[:uid],
                                  controller: true, blockOwnerDeletion: true }]
            },
            spec: leaf_spec
          }
        end

        def leaf_labels(meta)
          labels = { PROJECT_LABEL.to_sym => Names.label_value(meta[:name]) }
          shard = meta.dig(:labels, SHARD_LABEL)
          shard ? labels.merge(SHARD_LABEL => shard) : labels
        end

        # Ready means the listing was read and the Leafs are in place (the controller applies them
        # before it writes this status); how the Leafs fare is LeavesReady and readyLeaves.
        def listed(project, status, leaves, owned_leaves, interval, now)
          fresh = with_leaves(project, status, owned_leaves.select { |l| leaves.key?(l.dig(:metadata, :name)) },
                              package_count: leaves.size)
          fresh = fresh.merge(observedGeneration: project.dig(:metadata, :generation), lastUpdate: Conditions.timestamp(now),
                              conditions: summarize(project, fresh, :succeeded, "Succeeded", "#{leaves.size} packages listed"))
          fresh[:lastHandledReconcileAt] = Schedule.requested_at(project) if Schedule.requested_at(project)
          Outcome.new(status: fresh, requeue_after: Schedule.jittered(interval, @random), fetched: true)
        end

        # The listing waits for a token (or for the worker's next turn, seconds 0): re-aggregate
        # the Leafs meanwhile and say why the listing is not read yet.
        def waiting(project, status, owned_leaves, seconds)
          fresh = with_leaves(project, status, owned_leaves, package_count: owned_leaves.size)
          if seconds.positive?
            generation = project.dig(:metadata, :generation)
            fresh = fresh.merge(conditions: Summary.waiting_for_budget(fresh[:conditions], seconds, generation: generation,
                                                                                                    now: @clock.call))
          end
          Plan.new(outcome: Outcome.new(status: fresh, requeue_after: seconds, waiting: true))
        end

        def aggregate_only(project, status, owned_leaves, wait)
          Plan.new(outcome: Outcome.new(status: with_leaves(project, status, owned_leaves, package_count: owned_leaves.size),
                                        requeue_after: wait))
        end

        # The Leafs' side: counts, and LeavesReady True when every Leaf is Ready, Unknown while
        # some have not reported yet, False (with their names) when some failed.
        def with_leaves(project, status, leaves, package_count:)
          failing = leaves.select { |l| Conditions.status_of(l.dig(:status, :conditions), Conditions::READY) == "False" }
          ready = leaves.count { |l| Conditions.true?(l.dig(:status, :conditions), Conditions::READY) }
          state, reason, message =
            if !failing.empty?
              names = failing.map { |l| l.dig(:metadata, :name) }.sort
              ["False", "LeavesNotReady", "#{failing.size}/#{package_count} Leafs not ready: #{names.first(10).join(', ')}"]
            elsif ready < package_count
              ["Unknown", "Progressing", "#{package_count - ready} Leafs pending"]
            else
              ["True", "Succeeded", "#{ready} Leafs ready"]
            end
          conditions = Conditions.set(status[:conditions], type: LEAVES_READY, status: state, reason: reason, message: message,
                                                           generation: project.dig(:metadata, :generation), now: @clock.call)
          status.merge(packageCount: package_count, readyLeaves: ready, conditions: conditions,
                       totalDownloads: total_downloads(leaves))
        end

        def summarize(project, status, state, reason, message)
          Summary.conditions(status[:conditions], Result.new(state: state, reason: reason, message: message),
                             generation: project.dig(:metadata, :generation), now: @clock.call)
        end

        # Saturates at the largest count the status can hold: Leafs below the limit can add up past it.
        def total_downloads(leaves)
          [leaves.sum { |l| l.dig(:status, :downloadCount).to_i }, Leaf::INT64_MAX].min
        end

        def failed(project, status, failure, _now, owned_leaves)
          fresh = with_leaves(project, status, owned_leaves, package_count: owned_leaves.size)
          fresh[:conditions] = summarize(project, fresh, failure.stalled ? :stalled : :failed, failure.reason, failure.message)
          fresh[:observedGeneration] = project.dig(:metadata, :generation) if failure.stalled
          fresh[:lastHandledReconcileAt] = Schedule.requested_at(project) if Schedule.requested_at(project)
          Outcome.new(status: fresh, failure: failure, event: ["Warning", failure.reason, failure.message], fetched: true)
        end

        def suspended(project, status, owned_leaves)
          fresh = status.merge(observedGeneration: project.dig(:metadata, :generation),
                               conditions: summarize(project, status, :suspended, nil, nil))
          fresh[:lastHandledReconcileAt] = Schedule.requested_at(project) if Schedule.requested_at(project)
          Plan.new(outcome: Outcome.new(status: fresh), desired_leaves: suspended_leaves(project, owned_leaves))
        end

        # A suspended Project suspends its Leafs too, so no request at all goes to GitHub.
        def suspended_leaves(project, owned_leaves)
          owned_leaves.to_h do |leaf|
            name = leaf.dig(:metadata, :name)
            package = Struct.new(:name, :repository).new(leaf.dig(:spec, :package), leaf.dig(:spec, :repository))
            body = leaf_body(name, project[:metadata], project[:spec], package)
            [name, body.merge(spec: body[:spec].merge(suspend: true))]
          end
        end
      end
    end
  end
end
