# frozen_string_literal: true

module StatsTracker
  module Simulation
    # A broken invariant: the message says which, about what, and when.
    class Violation < StandardError
      attr_reader :invariant

      def initialize(invariant, message)
        @invariant = invariant
        super("#{invariant}: #{message}")
      end
    end

    # The properties checked after every step of a simulation (and, for the last two, at its
    # end). Bounds are in simulated seconds.
    class Invariants
      ALL = %i[retry_bound request_bound deletion_rule one_worker github_budget cache_order convergence
               write_rate one_leader takeover lost_update].freeze
      # Slowest backoff of a raised reconcile (Runtime's Backoff cap; a failed read's is a
      # fraction of its interval), longest Retry-After the simulated GitHub sends.
      BACKOFF_CAP = 300.0
      MAX_RETRY_AFTER = 60.0
      # Allowance for the GitHub queue (rate 1/s), a rate-limit pause, clock skew and step size.
      SLACK = 240.0
      REQUEST_BOUND = 180.0
      BUDGET_WINDOW = 60.0
      # Once the API server answers promptly and a candidate runs, some replica leads within: the
      # lease's duration after the candidate last saw it change, a retry period to notice, one
      # more to win it, two lease requests that time out, and the clocks' rate drift.
      TAKEOVER_BOUND = (Replica::LEASE_DURATION + (2 * Replica::RETRY_PERIOD) + (Replica::RENEW_DEADLINE / 2.0)) *
                       (1 + (2 * ReplicaClock::RATE_DRIFT))
      FAILING = %i[server_error rate_limited_retry_after rate_limited timeout login_page rate_limit_page
                   slow_timeout connection_reset cut_body].freeze

      def initialize(world:, enabled:)
        @world = world
        @enabled = enabled
        @failed_reads = {}
        @tokens = {}
        @github_seen = 0
        @deletions_seen = 0
        @versions = {}
        @gone = {}
        @leaderless_since = nil
        @last_step_at = 0.0
        @found = nil
      end

      def enabled?(name)
        @enabled.include?(name)
      end

      def token_set(plural, key, token)
        @tokens[[plural, key]] = { token: token, at: now, outage: 0.0 }
      end

      # A new process: a new, empty cache.
      def restarted(replica)
        @versions[replica] = {}
        @gone[replica] = {}
      end

      # A write reached the API server from `sender` (its identity nil: the lone operator), based
      # on the resourceVersion `base` it read (nil: it read none, a create), and changes the stored
      # version `replaces` (nil: it changes nothing). This runs inside the operator's own call,
      # whose rescue would swallow the Violation, so it is also kept and raised again after the step.
      def written(sender, what, plural, key, base: nil, replaces: nil)
        check_lost_update(sender, what, plural, key, base, replaces) if enabled?(:lost_update)
        check_fenced(sender, what, plural, key) if enabled?(:one_leader) && sender&.identity && !sender.leading
      end

      # step: what the world just did; only delivering, working and waking change a cache.
      def after_step(step = nil)
        raise @found if @found

        count_outage
        check_leaders if enabled?(:one_leader)
        check_takeover if enabled?(:takeover)
        track_github
        check_retries if enabled?(:retry_bound)
        check_tokens if enabled?(:request_bound)
        check_deletions if enabled?(:deletion_rule)
        check_cache_order if enabled?(:cache_order) && !%i[advance fault].include?(step)
      end

      def worker_took(key, in_flight)
        return unless enabled?(:one_worker) && in_flight.include?(key)

        raise Violation.new(:one_worker, "#{key} handed to a second worker while one is reconciling it")
      end

      def at_end(measure_from:)
        check_convergence if enabled?(:convergence)
        check_write_rate(measure_from) if enabled?(:write_rate)
      end

      private

      def now
        @world.clock.now
      end

      # No lost update: a write may only replace the version its sender read. This is what the
      # resourceVersion precondition guarantees, whoever sends the write and whenever it lands.
      # It is also all that matters about a deposed leader's write that lands late: if the object
      # is unchanged since its sender read it, the new leader has not written it (nor has anyone
      # else), so the write replaces nothing another replica decided; it is as if it had landed
      # before the takeover. If the object changed, the API server refuses it (409).
      def check_lost_update(sender, what, plural, key, base, replaces)
        return if replaces.nil?

        current = replaces.dig(:metadata, :resourceVersion)
        return if base == current

        by = if sender&.identity
               "#{sender.identity} (#{sender.leading ? 'sent while it led' : 'sent while it did not lead'})"
             else
               "the operator"
             end
        raise @found ||= Violation.new(:lost_update, "#{what} of #{plural} #{key} by #{by} " \
                                                     "based on #{base ? "resourceVersion #{base}" : 'no read'} replaced " \
                                                     "resourceVersion #{current} at t=#{now.round(2)}; " \
                                                     "lease #{server.lease_holder || 'free'}")
      end

      # A write that left a replica that did not count itself leader (the fence should have
      # stopped it) must not land while another replica leads or holds the lease.
      def check_fenced(sender, what, plural, key)
        identity = sender.identity
        holder = server.lease_holder
        others = @world.replicas.select { |r| r.identity != identity && r.leader? }.map(&:identity)
        return if others.empty? && (holder.nil? || holder == identity)

        raise @found ||= Violation.new(:one_leader, "#{what} of #{plural} #{key} by #{identity} " \
                                                    "(sent while it did not lead) reached the API server at " \
                                                    "t=#{now.round(2)} while the lease is #{holder || 'free'} and " \
                                                    "#{others.empty? ? 'no other replica' : others.join(', ')} leads")
      end

      def server
        @world.server
      end

      def github
        @world.github
      end

      # A failed read is pending until a later read of the same target succeeds.
      def track_github
        requests = github.requests
        while @github_seen < requests.size
          request = requests[@github_seen]
          @github_seen += 1
          check_budget(request[:at]) if enabled?(:github_budget)
          if FAILING.include?(request[:fault])
            @failed_reads[request[:target]] = { at: request[:at], fault: request[:fault], outage: 0.0 }
          else
            @failed_reads.delete(request[:target])
          end
        end
      end

      def check_budget(at)
        count = github.requests.count { |r| r[:at] > at - BUDGET_WINDOW && r[:at] <= at }
        allowed = (@world.github_rate * BUDGET_WINDOW) + @world.github_burst
        return if count <= allowed

        raise Violation.new(:github_budget, "#{count} GitHub requests in the #{BUDGET_WINDOW.to_i} s before " \
                                            "t=#{at.round(2)} (budget #{allowed.to_i})")
      end

      def check_retries
        @failed_reads.each do |target, failed|
          interval = live_interval(target)
          next @failed_reads.delete(target) unless interval

          bound = if failed[:fault] == :login_page
                    interval
                  else
                    [[BACKOFF_CAP, interval * Operator::Controller::OutcomeHandler::BACKOFF_CAP_FRACTION].max +
                      MAX_RETRY_AFTER, interval].min
                  end
          next if now <= failed[:at] + bound + SLACK + failed[:outage]

          raise Violation.new(:retry_bound, "#{target.join(' ')} failed (#{failed[:fault]}) at t=#{failed[:at].round(2)} " \
                                            "and was not read again by t=#{now.round(2)} " \
                                            "(bound #{bound.round}+#{SLACK.round} s)")
        end
      end

      # The interval of the live, unsuspended object a GitHub target belongs to; nil if none.
      def live_interval(target)
        kind, owner, package = target
        project = server.all("projects").find { |p| p.dig(:spec, :owner) == owner }
        return nil if project.nil? || project.dig(:spec, :suspend)
        return @world.interval_of(project) if kind == :listing

        leaf = server.all("leaves").find { |l| l.dig(:spec, :owner) == owner && l.dig(:spec, :package) == package }
        leaf && !leaf.dig(:spec, :suspend) ? @world.interval_of(project) : nil
      end

      def check_tokens
        @tokens.each do |(plural, key), wanted|
          object = server.get(plural, key)
          next @tokens.delete([plural, key]) if object.nil? || object.dig(:status, :lastHandledReconcileAt) == wanted[:token]

          # A request cannot be recorded while the API server refuses writes; after the last
          # refusal it waits at most a backoff. Time GitHub was paused does not count (a read
          # that needs GitHub waits for the pause to end).
          bound = wanted[:at] + REQUEST_BOUND + @world.github_paused(wanted[:at], now) + wanted[:outage]
          next if now <= [bound, (server.last_write_failure || 0) + BACKOFF_CAP + SLACK].max

          raise Violation.new(:request_bound, "requestedAt #{wanted[:token]} on #{plural} #{key} (set at " \
                                              "t=#{wanted[:at].round(2)}) not handled by t=#{now.round(2)}")
        end
      end

      # The operator deletes a Leaf only when its package is no longer listed.
      def check_deletions
        deletions = server.deletions
        while @deletions_seen < deletions.size
          deletion = deletions[@deletions_seen]
          @deletions_seen += 1
          next unless deletion[:by] == :operator

          spec = deletion[:object][:spec]
          next unless github.listed?(spec[:owner], spec[:package])

          raise Violation.new(:deletion_rule, "Leaf #{deletion[:key]} deleted at t=#{deletion[:at].round(2)} while " \
                                              "#{spec[:owner]}/#{spec[:package]} is still listed")
        end
      end

      # Time nothing could be reconciled (no replica led) or the API server was slow is added to
      # the bounds of what was pending meanwhile.
      def count_outage
        seconds = now - @last_step_at
        @last_step_at = now
        return unless seconds.positive? && (server.slow_until > now - seconds || @world.replicas.none?(&:leader?))

        (@tokens.values + @failed_reads.values).each { |pending| pending[:outage] += seconds }
      end

      def check_leaders
        leaders = @world.replicas.select(&:leader?)
        return if leaders.size <= 1

        raise Violation.new(:one_leader, "#{leaders.map(&:identity).join(' and ')} both count themselves leader")
      end

      # Time with no leader counts only while a candidate runs and the API server is prompt.
      def check_takeover
        candidates = @world.replicas.select(&:candidate?)
        return @leaderless_since = nil if candidates.empty? || @world.replicas.any?(&:leader?)

        @leaderless_since ||= now
        from = [@leaderless_since, server.slow_until, candidates.map(&:started_at).min].max
        return if now <= from + TAKEOVER_BOUND

        raise Violation.new(:takeover, "no replica has led since t=#{@leaderless_since.round(2)} (candidates " \
                                       "#{candidates.map(&:identity).join(', ')}; bound #{TAKEOVER_BOUND.round(1)} s " \
                                       "from t=#{from.round(2)})")
      end

      # Per process: an object never goes back to an older resourceVersion, and one that left the
      # cache (deleted; uids are never reused) never comes back.
      def check_cache_order
        @world.replicas.each do |replica|
          versions = @versions[replica] ||= {}
          gone = @gone[replica] ||= {}
          present = {}
          replica.operator.informers.each do |plural, informer|
            informer.store.all.each do |object|
              uid = object[:metadata][:uid]
              version = Integer(object[:metadata][:resourceVersion])
              present[uid] = version
              check_version(plural, object, versions[uid], gone[uid]) if gone.key?(uid) || version != versions[uid]
            end
          end
          versions.each { |uid, version| gone[uid] = version unless present.key?(uid) }
          @versions[replica] = present
        end
      end

      def check_version(plural, object, seen, gone)
        name = "#{plural} cache for #{object.dig(:metadata, :namespace)}/#{object.dig(:metadata, :name)}"
        version = Integer(object.dig(:metadata, :resourceVersion))
        if gone
          raise Violation.new(:cache_order, "#{name} came back at resourceVersion #{version} after it was " \
                                            "deleted (last seen at #{gone})")
        end
        return unless seen && version < seen

        raise Violation.new(:cache_order, "#{name} went back from resourceVersion #{seen} to #{version}")
      end

      def check_convergence
        missing = github.owners.flat_map do |owner|
          project = server.all("projects").find { |p| p.dig(:spec, :owner) == owner }
          next [] unless project

          github.packages(owner).reject do |pkg|
            server.all("leaves").any? { |l| l.dig(:spec, :owner) == owner && l.dig(:spec, :package) == pkg }
          end.map { |pkg| "#{owner}/#{pkg} has no Leaf" }
        end
        not_ready = (server.all("projects") + server.all("leaves")).reject { |o| ready?(o) }.map do |o|
          ready = Array(o.dig(:status, :conditions)).find { |c| c[:type] == "Ready" }
          "#{o[:kind]} #{o.dig(:metadata,
                               :namespace)}/#{o.dig(:metadata, :name)} #{ready&.values_at(:status, :reason)&.join('/') || 'no Ready'}"
        end
        problems = missing + not_ready
        return if problems.empty?

        raise Violation.new(:convergence, "at t=#{now.round(2)}, #{(now - @world.faults_end).round} s after the " \
                                          "last fault: #{problems.first(5).join('; ')}")
      end

      def ready?(object)
        Array(object.dig(:status, :conditions)).any? { |c| c[:type] == "Ready" && c[:status] == "True" }
      end

      # Steady state: at most one write per Leaf per interval, plus one for the window's edges.
      def check_write_rate(from)
        window = now - from
        server.all("leaves").each do |leaf|
          key = "#{leaf.dig(:metadata, :namespace)}/#{leaf.dig(:metadata, :name)}"
          writes = server.writes[["leaves", key]].count { |at| at >= from }
          project = server.all("projects").find { |p| p.dig(:spec, :owner) == leaf.dig(:spec, :owner) }
          allowed = (window / @world.interval_of(project)).floor + 1
          next if writes <= allowed

          raise Violation.new(:write_rate, "Leaf #{key}: #{writes} API writes in the last #{window.round} s " \
                                           "(bound #{allowed})")
        end
      end
    end
  end
end
