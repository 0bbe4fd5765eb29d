# frozen_string_literal: true

require_relative "clock"
require_relative "api_server"
require_relative "github"
require_relative "operator_under_test"
require_relative "replica"
require_relative "invariants"
require_relative "script"

module StatsTracker
  module Simulation
    # A deterministic simulation of the operator: one seed drives every choice (which worker
    # runs, when watch notices arrive, which faults strike), so a failing seed replays exactly.
    # Phases: faults for `fault_hours`, then quiet until everything should have converged
    # (`converge_seconds`), then one longest interval of steady state to measure write rates.
    # With the :leader_change fault two replicas elect a leader on the API server's Lease, and
    # reconciles and requests run on Fibers, so a slow API server delays them in simulated time;
    # without it (BASE_FAULTS) one operator runs alone and seeds replay as they did before.
    class World
      PROJECTS = [
        { namespace: "team-a", name: "apps", owner: "acme", interval: "1h", packages: 7 },
        { namespace: "team-a", name: "tools", owner: "beta", interval: "10m", packages: 4 },
        { namespace: "team-b", name: "charts", owner: "gamma", interval: "30m", packages: 5 }
      ].freeze
      BASE_FAULTS = %i[user_request user_suspend user_delete_leaf listing_change count_change github_fault api_fault
                       drop_watch latency crash crash_mid_reconcile skew].freeze
      # Two replicas, slowness and stale lists, as first modelled (seeds found then replay).
      ELECTION_FAULTS = (BASE_FAULTS + %i[leader_change slow_api stale_list]).freeze
      # Then one replica slow alone, answers to writes lost, slow and cut GitHub answers.
      # With replica_watch, each leading replica's informers have watch streams of their own.
      FAULTS = (ELECTION_FAULTS + %i[slow_replica lost_response github_slow github_transfer replica_watch
                                     lease_refused election_stall deposed_busy]).freeze
      REPLICAS = %w[a b].freeze
      # Faults whose guard belongs to another change; off unless asked for.
      OPTIONAL_FAULTS = %i[truncated_listing].freeze
      WORKERS = 2
      # Faults per simulated hour at intensity 1 (what a lone operator's seeds see, step for step).
      FAULTS_PER_HOUR = 20

      Result = Struct.new(:seed, :violation, :trace, :steps, :simulated, :replay, keyword_init: true) do
        def ok?
          violation.nil?
        end

        def report(lines: 60)
          head = "seed #{seed}: #{violation ? violation.message : 'ok'} (#{steps} steps, #{(simulated / 3600).round(2)} h)"
          return head if ok?

          ([head, "replay: bundle exec rake operator:simulate #{replay}", "trace (last #{lines} lines):"] +
            trace.last(lines)).join("\n")
        end
      end

      attr_reader :clock, :server, :github, :faults_end, :github_rate, :github_burst, :replicas

      # A reconcile on a worker: running (its Fiber waits until wake_at) or done (result set).
      Job = Struct.new(:replica, :key, :fiber, :wake_at, :result) do
        def done?
          !fiber.alive?
        end
      end

      # The operator of a run without leader election: always leading.
      Lone = Struct.new(:operator) do
        def leading? = true
        def leader? = true
        def candidate? = false
        def alive? = true
        def identity = nil
        def wake_at = nil
      end

      # script: a Script whose steps replace the random faults (two replicas, nothing else strikes).
      # preconditions: false makes the API server ignore resourceVersion preconditions (to show
      # the lost_update invariant catches what they prevent).
      def initialize(seed:, fault_hours: 3.0, converge_seconds: 5400, faults: FAULTS,
                     invariants: Invariants::ALL, script: nil, fence_permits: :leader?.to_proc, preconditions: true)
        @seed = seed
        @script = script
        @fence_permits = fence_permits
        @random = Random.new(seed)
        @fault_hours = fault_hours
        @converge_seconds = converge_seconds
        @faults = script ? [] : faults
        @trace = []
        @clock = Clock.new
        trace = ->(line) { @trace << format("%9.2f %s", @clock.now, line) }
        @server = ApiServer.new(clock: @clock, random: @random, trace: trace)
        @server.enforce_preconditions(preconditions)
        @github = Github.new(clock: @clock, random: @random, trace: trace)
        @github_rate = 1.0
        @github_burst = 5
        @invariants = Invariants.new(world: self, enabled: invariants)
        @server.on_write = @invariants.method(:written)
        @in_flight = []
        @github_pauses = []
        @steps = 0
        @ha = script ? true : faults.include?(:leader_change)
        @replicas = []
        @restart_at = {}
        @incarnations = Hash.new(0)
        # Some seeds are stormy, some nearly calm: a bug that needs quiet (nothing else
        # re-running an object) shows only in the calm ones.
        @intensity = [0.05, 0.2, 1.0, 3.0][@random.rand(4)]
      end

      def run
        seed_objects
        start_operator
        log("fault intensity #{@intensity}")
        @faults_end = @fault_hours * 3600
        run_until(@faults_end, faults: true)
        calm_down
        run_until(@faults_end + @converge_seconds, faults: false)
        measure_from = @clock.now
        @invariants.at_end(measure_from: measure_from) if @invariants.enabled?(:convergence)
        run_until(measure_from + longest_interval, faults: false)
        @invariants.at_end(measure_from: measure_from)
        result(nil)
      rescue Violation => e
        log("VIOLATION #{e.message}")
        result(e)
      end

      # Seconds within [from, to] during which GitHub requests were paused (429s).
      def github_paused(from, to)
        covered = @github_pauses.filter_map { |a, b| [[a, from].max, [b, to].min] if b > from && a < to }
        covered.sort.each_with_object([]) do |(a, b), merged|
          merged.last && a <= merged.last[1] ? merged.last[1] = [merged.last[1], b].max : merged << [a, b]
        end.sum { |a, b| b - a }
      end

      def interval_of(project)
        Operator::Duration.parse(project.dig(:spec, :interval) || "1h")
      end

      # The replica that counts itself leader now, if any.
      def leader
        @replicas.find(&:leader?)
      end

      # A user sets a new requestedAt on every object of `plural`.
      def request_all(plural)
        @server.all(plural).each { |object| request(plural, object) }
      end

      def log(line)
        @trace << format("%9.2f %s", @clock.now, line)
      end

      private

      def result(violation)
        replay = if @script
                   "SCENARIO=#{@script.name} SEED=#{@seed}"
                 else
                   ["SEED=#{@seed}", "HOURS=#{@fault_hours}", ("LONE=1" unless @ha)].compact.join(" ")
                 end
        Result.new(seed: @seed, violation: violation, trace: @trace, steps: @steps, simulated: @clock.now, replay: replay)
      end

      def longest_interval
        PROJECTS.map { |p| Operator::Duration.parse(p[:interval]) }.max
      end

      def seed_objects
        PROJECTS.each do |p|
          @github.add_owner(p[:owner], Array.new(p[:packages]) { |i| "#{p[:owner]}-pkg#{i}" })
          @server.create("projects", { apiVersion: ApiServer::GROUP_VERSION, kind: "Project",
                                       metadata: { name: p[:name], namespace: p[:namespace] },
                                       spec: { owner: p[:owner], interval: p[:interval] } })
        end
      end

      def start_operator
        @server.split_watches if @faults.include?(:replica_watch)
        return REPLICAS.each { |slot| start_replica(slot) } if @ha

        @server.reset_watches
        @in_flight = []
        operator = OperatorUnderTest.new(**operator_options, clock: @clock)
        @replicas = [Lone.new(operator)]
        @invariants.restarted(@replicas.first)
        operator.informers.each do |plural, informer|
          items, version = @server.list(plural)
          informer.load(items, version)
        end
        log("operator started")
      end

      def operator_options
        { server: @server, github: @github, random: @random, github_rate: @github_rate, github_burst: @github_burst,
          on_pause: ->(from, to) { @github_pauses << [from, to] } }
      end

      # A new process in `slot` (a pod's container restarted): a new identity, a standby first.
      def start_replica(slot)
        @restart_at.delete(slot)
        identity = "#{slot}#{@incarnations[slot] += 1}"
        replica = Replica.new(identity: identity, clock: @clock, server: @server, random: @random, trace: method(:log),
                              on_lead: method(:lead), busy: ->(r) { @in_flight.any? { |j| j.replica == r } },
                              operator_options: operator_options, fence_permits: @fence_permits)
        @replicas = @replicas.reject { |r| r.identity.start_with?(slot) } + [replica]
        @invariants.restarted(replica)
        log("#{identity} started")
      end

      # What Manager does once the lease is won: informers list, then watch; workers start.
      def lead(replica)
        log("#{replica.identity} leads")
        @server.open_watch(replica.identity) if @server.split?
        replica.operator.informers.each do |plural, informer|
          Wait.for(@server.request_delay(replica.identity))
          informer.load(*@server.list(plural))
        end
      end

      def run_until(deadline, faults:)
        @faulting = faults
        while @clock.now < deadline
          done = step(faults)
          @steps += 1
          @invariants.after_step(done)
        end
      end

      def step(faults)
        choices = { advance: 4 }
        choices[:deliver] = 20 if (@server.next_delivery || Float::INFINITY) <= @clock.now
        choices[:work] = 20 unless idle_workers.empty?
        choices[:finish] = 20 if @in_flight.any?(&:done?)
        choices[:wake] = 20 if next_wake <= @clock.now
        choices[:fault] = @intensity if faults && !@ha
        choice = pick(choices)
        send(choice)
        choice
      end

      # Leading replicas with a free worker.
      def idle_workers
        @replicas.select { |r| r.leading? && @in_flight.count { |j| j.replica == r } < WORKERS }
      end

      # The earliest moment a Fiber (an election, a reconcile) or a restart is due.
      def next_wake
        times = @in_flight.filter_map(&:wake_at) + @replicas.filter_map { |r| r.alive? && r.wake_at }
        (times + @restart_at.values + [@script&.next_at].compact).min || Float::INFINITY
      end

      def wake
        due = @clock.now
        return @script.run_due(self) if @script&.next_at && @script.next_at <= due

        slot, = @restart_at.find { |_, at| at <= due }
        return start_replica(slot) if slot

        replica = @replicas.find { |r| r.alive? && r.wake_at && r.wake_at <= due }
        return wake_replica(replica) if replica

        run_job(@in_flight.find { |j| j.wake_at && j.wake_at <= due })
      end

      def wake_replica(replica)
        replica.resume
        return if replica.alive?

        @in_flight.reject! { |j| j.replica == replica }
        @restart_at[replica.identity[0]] = @clock.now + 1 + (@random.rand * 20)
      end

      def pick(weights)
        roll = @random.rand * weights.values.sum
        weights.each do |choice, weight|
          return choice if roll < weight

          roll -= weight
        end
        weights.keys.last
      end

      # Time moves, but never past a Fiber that is due: processes are scheduled promptly. With two
      # replicas, steps come much more often (every Fiber's wake is one), so faults come with time
      # rather than with steps, at the rate a lone operator's seed of the same intensity sees.
      def advance
        seconds = [0.05 + (@random.rand * 8), next_wake - @clock.now].min
        @clock.advance(seconds)
        fault if @ha && @faulting && seconds.positive? && @random.rand < @intensity * FAULTS_PER_HOUR * seconds / 3600
      end

      # Only a leading replica runs informers (Manager starts them after acquire).
      def deliver
        return deliver_split if @server.split?

        @server.deliver_due.each do |plural, kind, payload|
          @replicas.select(&:leading?).each { |replica| hand(replica, plural, kind, payload) }
        end
      end

      # Each leading replica from its own streams; a replica that stopped leading stopped watching.
      def deliver_split
        leading = @replicas.select(&:leading?)
        (@server.watchers - leading.map(&:identity)).each { |watcher| @server.close_watch(watcher) }
        leading.each do |replica|
          @server.deliver_due(replica.identity).each { |plural, kind, payload| hand(replica, plural, kind, payload) }
        end
      end

      def hand(replica, plural, kind, payload)
        informer = replica.operator.informers.fetch(plural)
        return informer.dispatch(payload) unless kind == :list

        log("#{replica.identity && "#{replica.identity} "}informer #{plural} relists")
        relist(informer, payload, replica.identity)
      end

      # A refused list is retried, as the informer's own loop retries it after a backoff.
      def relist(informer, payload, watcher)
        informer.load(*payload)
      rescue Operator::Controller::Informer::StaleList => e
        log("informer #{informer.plural} refuses the list: #{e.message}")
        @server.relist_in(informer.plural, 1 + (@random.rand * 5), watcher)
      end

      def work
        replica = idle_workers[@ha ? @random.rand(idle_workers.size) : 0]
        key = replica.operator.queue.get(timeout: 0)
        return advance unless key

        @invariants.worker_took(key, @in_flight.select { |j| j.replica == replica }.map(&:key))
        job = Job.new(replica, key, Fiber.new { replica.operator.reconcile(key) })
        @in_flight << job
        run_job(job)
      end

      def run_job(job)
        out = job.fiber.resume
        return job.wake_at = @clock.now + out unless job.done?

        job.wake_at = nil
        log("#{job.replica.identity && "#{job.replica.identity} "}reconcile #{job.key} -> #{out}")
      rescue Crash => e
        log("CRASH #{e.message}")
        crash(job.replica)
      end

      # SIGKILL: its reconciles end where they are; a process restarts in its place.
      def crash(replica)
        return start_operator unless @ha

        replica.kill
        @in_flight.reject! { |j| j.replica == replica }
        @restart_at[replica.identity[0]] = @clock.now + 1 + (@random.rand * 20)
      end

      def finish
        done = @in_flight.select(&:done?)
        job = done[@random.rand(done.size)]
        @in_flight.delete(job)
        job.replica.operator.queue.done(job.key)
      end

      def fault
        return if @faults.empty?

        name = @faults[@random.rand(@faults.size)]
        send(:"fault_#{name}")
      end

      # --- faults ------------------------------------------------------------------------------

      def random_object(plural)
        objects = @server.all(plural)
        objects[@random.rand(objects.size)] unless objects.empty?
      end

      def key_of(object)
        "#{object.dig(:metadata, :namespace)}/#{object.dig(:metadata, :name)}"
      end

      def fault_user_request
        plural = @random.rand < 0.5 ? "projects" : "leaves"
        object = random_object(plural) or return
        request(plural, object)
      end

      def request(plural, object)
        token = "t#{@clock.now.round(2)}"
        log("user requestedAt=#{token} on #{plural} #{key_of(object)}")
        @server.annotate(plural, key_of(object), Operator::Reconcilers::Schedule::REQUESTED_AT, token)
        @invariants.token_set(plural, key_of(object), token)
      end

      def fault_user_suspend
        project = random_object("projects") or return
        suspend = !project.dig(:spec, :suspend)
        log("user sets suspend=#{suspend} on project #{key_of(project)}")
        @server.edit_spec("projects", key_of(project), suspend: suspend)
      end

      def fault_user_delete_leaf
        leaf = random_object("leaves") or return
        log("user deletes leaf #{key_of(leaf)}")
        @server.user_delete("leaves", key_of(leaf))
      end

      def fault_listing_change
        owner = @github.owners[@random.rand(@github.owners.size)]
        packages = @github.packages(owner)
        if packages.size > 2 && @random.rand < 0.5
          package = packages[@random.rand(packages.size)]
          log("github: #{owner} unlists #{package}")
          @github.unlist_package(owner, package)
        else
          package = "#{owner}-pkg#{@random.rand(10)}"
          log("github: #{owner} lists #{package}")
          @github.list_package(owner, package)
        end
      end

      def fault_count_change
        owner = @github.owners[@random.rand(@github.owners.size)]
        packages = @github.packages(owner)
        @github.bump(owner, packages[@random.rand(packages.size)]) unless packages.empty?
      end

      def fault_github_fault
        kinds = Github::FAULTS - (@faults.include?(:truncated_listing) ? [] : [:truncated_listing])
        kind = kinds[@random.rand(kinds.size)]
        owner = @github.owners[@random.rand(@github.owners.size)]
        target = if kind == :truncated_listing || @random.rand < 0.4
                   [:listing, owner]
                 else
                   packages = @github.packages(owner)
                   [:package, owner, packages[@random.rand(packages.size)]]
                 end
        times = 1 + @random.rand(6)
        log("github: next #{times} requests for #{target.join(' ')} -> #{kind}")
        @github.arm(target, kind, times)
      end

      def fault_truncated_listing
        fault_github_fault
      end

      def fault_api_fault
        code = @random.rand < 0.5 ? 500 : 409
        times = 1 + @random.rand(3)
        log("api: next #{times} writes -> #{code}")
        @server.fail_writes(times, code)
      end

      def fault_drop_watch
        plural = @random.rand < 0.5 ? "projects" : "leaves"
        delay = 1 + (@random.rand * 30)
        watcher = random_watcher
        lost = @server.drop_watch(plural, delay, watcher)
        log("api: #{watcher && "#{watcher}'s "}#{plural} watch dropped (#{lost} notices lost), relist in #{delay.round(2)} s")
      end

      # With streams per replica: the one whose watch a fault strikes (nil: the shared stream).
      def random_watcher
        return nil unless @server.split?

        watchers = @server.watchers
        watchers[@random.rand(watchers.size)] unless watchers.empty?
      end

      # One replica's watch of a kind sees 410 Gone (its resourceVersion is too old, the others'
      # is not): it relists, the others' streams go on.
      def fault_replica_watch
        fault_drop_watch
      end

      def fault_latency
        latency = [0.5, 0.5, 5.0, 30.0][@random.rand(4)]
        log("api: watch latency up to #{latency} s")
        @server.set_latency(latency)
      end

      def fault_crash
        unless @ha
          log("operator restarts (SIGTERM between two reconciles)")
          return start_operator
        end

        replica = random_replica or return
        log("#{replica.identity} gets SIGTERM")
        replica.terminate
      end

      # SIGKILL of either replica, the leader or the standby.
      def fault_leader_change
        replica = random_replica or return
        log("#{replica.identity} killed (SIGKILL)")
        crash(replica)
      end

      def random_replica
        alive = @replicas.select(&:alive?)
        alive[@random.rand(alive.size)] unless alive.empty?
      end

      # Every request from a replica (lease, list, writes) waits up to `max` seconds each way:
      # renewals that outlast the renew deadline, writes that land late.
      # One replica's requests are slow (its node, or its API server replica), up to 90 s each
      # way: past the client's 60 s timeout some writes are never applied, some applied unseen.
      def fault_slow_replica
        replica = random_replica or return
        seconds = 5 + (@random.rand * 120)
        max = [2.0, 8.0, 30.0, 90.0][@random.rand(4)]
        log("api: #{replica.identity}'s requests slow for #{seconds.round(2)} s, up to #{max} s each way")
        @server.slow_replica(replica.identity, seconds, max)
      end

      # API priority and fairness sheds one replica's lease requests (429) while its other
      # requests go through: a leader loses the lease with reconciles still running.
      def fault_lease_refused
        replica = random_replica or return
        seconds = 5 + (@random.rand * 60)
        log("api: #{replica.identity}'s lease requests refused (429) for #{seconds.round(2)} s")
        @server.lease_fault(replica.identity, :refuse, @clock.now + seconds)
      end

      # The scripted deposed_leader_drains at random: the leader loses its lease (429s, or a
      # stalled election thread) while a slow GitHub keeps its workers busy with user requests, so
      # its reconciles end after the other replica has taken over. Alone, each of these faults
      # rarely meets the others.
      def fault_deposed_busy
        replica = leader or return
        seconds = 20 + (@random.rand * 40)
        mode = @random.rand < 0.5 ? :refuse : :stall
        log("#{replica.identity} loses its lease (#{mode}) for #{seconds.round(2)} s while GitHub is slow")
        @server.lease_fault(replica.identity, mode, @clock.now + seconds)
        @github.slow_down(10 + (@random.rand * 20), @clock.now + seconds)
        3.times { (object = random_object("leaves")) && request("leaves", object) }
      end

      # One replica's election thread stalls (the GVL held by a long native call): its lease
      # request returns only after 5–60 s, whatever its timeout.
      def fault_election_stall
        replica = random_replica or return
        seconds = 5 + (@random.rand * 55)
        log("#{replica.identity}'s election thread stalls for #{seconds.round(2)} s")
        @server.lease_fault(replica.identity, :stall, @clock.now + seconds)
      end

      def fault_lost_response
        count = 1 + @random.rand(3)
        log("api: the answers to the next #{count} writes are lost")
        @server.lose_responses(count)
      end

      # Every GitHub answer takes a while; from 60 s on, the Fetcher gives up (a timeout).
      def fault_github_slow
        seconds = [2.0, 10.0, 30.0, 70.0][@random.rand(4)]
        span = 30 + (@random.rand * 300)
        log("github: answers take #{seconds} s for #{span.round(2)} s")
        @github.slow_down(seconds, @clock.now + span)
      end

      def fault_github_transfer
        kind = Github::TRANSFER_FAULTS[@random.rand(Github::TRANSFER_FAULTS.size)]
        owner = @github.owners[@random.rand(@github.owners.size)]
        packages = @github.packages(owner)
        target = @random.rand < 0.4 || packages.empty? ? [:listing, owner] : [:package, owner, packages[@random.rand(packages.size)]]
        times = 1 + @random.rand(4)
        log("github: next #{times} requests for #{target.join(' ')} -> #{kind}")
        @github.arm(target, kind, times)
      end

      def fault_slow_api
        seconds = 5 + (@random.rand * 120)
        max = [0.5, 2.0, 8.0, 30.0][@random.rand(4)]
        log("api: slow for #{seconds.round(2)} s, up to #{max} s each way")
        @server.slow_down(seconds, max)
      end

      def fault_stale_list
        plural = @random.rand < 0.5 ? "projects" : "leaves"
        delay = 1 + (@random.rand * 10)
        lag = 1 + @random.rand(60)
        watcher = random_watcher
        log("api: #{watcher && "#{watcher}'s "}#{plural} watch dropped, relist in #{delay.round(2)} s from a replica " \
            "#{lag} writes behind")
        @server.stale_relist(plural, delay, lag, watcher)
      end

      def fault_crash_mid_reconcile
        writes = 1 + @random.rand(4)
        log("operator will crash before its #{writes}th write from now")
        @server.crash_before_write(writes)
      end

      def fault_skew
        skew = (@random.rand * 240) - 120
        log("wall clock skew #{skew.round(2)} s")
        @clock.skew_to(skew)
      end

      # Faults stop: GitHub and the API server behave, users resume what they suspended.
      def calm_down
        @github.clear_faults
        @server.fail_writes(0, 500)
        @server.crash_before_write(nil)
        @server.set_latency(0.5)
        @server.slow_down(0, 0)
        @server.clear_replica_faults
        @server.all("projects").select { |p| p.dig(:spec, :suspend) }.each do |p|
          log("user resumes project #{key_of(p)}")
          @server.edit_spec("projects", key_of(p), suspend: false)
        end
        log("faults stop")
      end
    end
  end
end
