# frozen_string_literal: true

require_relative "clock"
require_relative "api_server"
require_relative "github"
require_relative "operator_under_test"
require_relative "invariants"

module StatsTracker
  module Simulation
    # A deterministic simulation of the operator: one seed drives every choice (which worker
    # runs, when watch notices arrive, which faults strike), so a failing seed replays exactly.
    # Phases: faults for `fault_hours`, then quiet until everything should have converged
    # (`converge_seconds`), then one longest interval of steady state to measure write rates.
    class World
      PROJECTS = [
        { namespace: "team-a", name: "apps", owner: "acme", interval: "1h", packages: 7 },
        { namespace: "team-a", name: "tools", owner: "beta", interval: "10m", packages: 4 },
        { namespace: "team-b", name: "charts", owner: "gamma", interval: "30m", packages: 5 }
      ].freeze
      FAULTS = %i[user_request user_suspend user_delete_leaf listing_change count_change github_fault api_fault
                  drop_watch latency crash crash_mid_reconcile skew].freeze
      # Faults whose guard belongs to another change; off unless asked for.
      OPTIONAL_FAULTS = %i[truncated_listing].freeze
      WORKERS = 2

      Result = Struct.new(:seed, :violation, :trace, :steps, :simulated, keyword_init: true) do
        def ok?
          violation.nil?
        end

        def report(lines: 60)
          head = "seed #{seed}: #{violation ? violation.message : 'ok'} (#{steps} steps, #{(simulated / 3600).round(2)} h)"
          return head if ok?

          ([head, "replay: bundle exec rake operator:simulate SEED=#{seed}", "trace (last #{lines} lines):"] +
            trace.last(lines)).join("\n")
        end
      end

      attr_reader :clock, :server, :github, :operator, :faults_end, :github_rate, :github_burst

      def initialize(seed:, fault_hours: 3.0, converge_seconds: 5400, faults: FAULTS,
                     invariants: Invariants::ALL)
        @seed = seed
        @random = Random.new(seed)
        @fault_hours = fault_hours
        @converge_seconds = converge_seconds
        @faults = faults
        @trace = []
        @clock = Clock.new
        trace = ->(line) { @trace << format("%9.2f %s", @clock.now, line) }
        @server = ApiServer.new(clock: @clock, random: @random, trace: trace)
        @github = Github.new(clock: @clock, random: @random, trace: trace)
        @github_rate = 1.0
        @github_burst = 5
        @invariants = Invariants.new(world: self, enabled: invariants)
        @in_flight = []
        @github_pauses = []
        @steps = 0
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

      private

      def result(violation)
        Result.new(seed: @seed, violation: violation, trace: @trace, steps: @steps, simulated: @clock.now)
      end

      def log(line)
        @trace << format("%9.2f %s", @clock.now, line)
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
        @server.reset_watches
        @in_flight = []
        @operator = OperatorUnderTest.new(server: @server, github: @github, clock: @clock, random: @random,
                                          github_rate: @github_rate, github_burst: @github_burst,
                                          on_pause: ->(from, to) { @github_pauses << [from, to] })
        @invariants.restarted
        @operator.informers.each do |plural, informer|
          items, version = @server.list(plural)
          informer.load(items, version)
        end
        log("operator started")
      end

      def run_until(deadline, faults:)
        while @clock.now < deadline
          step(faults)
          @steps += 1
          @invariants.after_step
        end
      end

      def step(faults)
        choices = { advance: 4 }
        choices[:deliver] = 20 if (@server.next_delivery || Float::INFINITY) <= @clock.now
        choices[:work] = 20 if @in_flight.size < WORKERS
        choices[:finish] = 20 unless @in_flight.empty?
        choices[:fault] = @intensity if faults
        send(pick(choices))
      end

      def pick(weights)
        roll = @random.rand * weights.values.sum
        weights.each do |choice, weight|
          return choice if roll < weight

          roll -= weight
        end
        weights.keys.last
      end

      def advance
        @clock.advance(0.05 + (@random.rand * 8))
      end

      def deliver
        @server.deliver_due.each do |plural, kind, payload|
          informer = @operator.informers.fetch(plural)
          if kind == :list
            log("informer #{plural} relists")
            informer.load(*payload)
          else
            informer.dispatch(payload)
          end
        end
      end

      def work
        key = @operator.queue.get(timeout: 0)
        return advance unless key

        @invariants.worker_took(key, @in_flight)
        @in_flight << key
        result = @operator.reconcile(key)
        log("reconcile #{key} -> #{result}")
      rescue Crash => e
        log("CRASH #{e.message}")
        start_operator
      end

      def finish
        key = @in_flight.delete_at(@random.rand(@in_flight.size))
        @operator.queue.done(key)
      end

      def fault
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
        lost = @server.drop_watch(plural, delay)
        log("api: #{plural} watch dropped (#{lost} notices lost), relist in #{delay.round(2)} s")
      end

      def fault_latency
        latency = [0.5, 0.5, 5.0, 30.0][@random.rand(4)]
        log("api: watch latency up to #{latency} s")
        @server.set_latency(latency)
      end

      def fault_crash
        log("operator restarts (SIGTERM between two reconciles)")
        start_operator
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
        @server.all("projects").select { |p| p.dig(:spec, :suspend) }.each do |p|
          log("user resumes project #{key_of(p)}")
          @server.edit_spec("projects", key_of(p), suspend: false)
        end
        log("faults stop")
      end
    end
  end
end
