# frozen_string_literal: true

# Operator at scale: 10 Projects x 100 packages = 1,000 Leafs, the real
# operator (`ruby operator/operator.rb`, its own process) against a real kube-apiserver + etcd
# (StatsTracker::Testing::KubeCluster) and the local page server standing in for github.com.
#
# Measured: time from applying the Projects until every Leaf is Ready; API requests per Leaf,
# counted by the API server itself (apiserver_request_total from /metrics, before/after, minus
# the requests this script makes), cross-checked with the operator's own client-side counter;
# GitHub-side requests per Leaf (the page server's request log); the operator's peak RSS
# (VmHWM); and a quiet window with nothing due, across which every watch ends and resumes
# (WATCH_TIMEOUT): it should cost no list and no write.
#
#   ruby bench/operator.rb          (BENCH_QUICK=1: 2 Projects x 50 packages)

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "net/http"
require "yaml"
require "rbconfig"
require "stats_tracker"
require_relative "lib/bench_support"
require_relative "lib/listing_pages"
require_relative "lib/apiserver_metrics"
require_relative "lib/operator_process"
require_relative "../testing/kube_cluster"
require_relative "../testing/page_server"

module Bench
  # Drives one scale run and a quiet resync window, then reports.
  class OperatorBench
    GROUP = "stats-tracker.dev"
    PROJECTS = Bench.quick? ? 2 : 10
    PACKAGES = Bench.quick? ? 50 : 100
    READY_TIMEOUT = Float(ENV.fetch("BENCH_OPERATOR_TIMEOUT", "900"))
    WATCH_TIMEOUT = 10 # seconds: the quiet window below sees every watch end and resume more than once
    # What the operator touches. Leases are left out: it runs without leader election here, and
    # the controller manager renews its own Lease every few seconds.
    RESOURCES = %w[leaves projects events secrets].freeze

    def initialize
      @own_requests = Hash.new(0) # [verb, resource] => count, made by this script
      @leaves_path = nil
    end

    def run
      Bench.log("operator: #{PROJECTS} Projects x #{PACKAGES} packages, load #{Bench.load_average}")
      start_cluster
      start_pages
      start_operator
      scale_run
      requested_cycle
      resync_window
      report
    rescue StandardError => e
      Results.not_measured(family: "operator", name: "1,000 Leafs across 10 Projects",
                           reason: "#{e.class}: #{e.message[0, 300]}")
      raise
    ensure
      stop
    end

    private

    def start_cluster
      started = Bench.now
      @cluster = StatsTracker::Testing::KubeCluster.new.start
      crds = File.join(ROOT, "operator", "deploy", "crds")
      @cluster.apply_yaml(File.join(crds, "projects.yaml"))
      @cluster.apply_yaml(File.join(crds, "leaves.yaml"))
      @namespace = @cluster.create_namespace("bench-operator")
      @leaves_path = "/apis/#{GROUP}/v1alpha1/namespaces/#{@namespace}/leaves"
      @metrics = ApiserverMetrics.new(@cluster.connection)
      Bench.log("operator: cluster up in #{Bench.format_seconds(Bench.now - started)}")
    end

    def start_pages
      @pages = StatsTracker::Testing::PageServer.new(fixtures_dir: FIXTURES).start
      listings = ListingPages.new
      fixtures = Bench.package_fixtures.map { |p| File.basename(p) }
      @orgs = Array.new(PROJECTS) { |i| "bench-org-#{i}" }
      @orgs.each do |org|
        names = Array.new(PACKAGES) { |i| format("pkg-%03d", i) }
        @pages.serve_listing(owner: org, pages: listings.pages(owner: org, names: names))
        names.each_with_index { |name, i| @pages.serve_package(owner: org, package: name, fixture: fixtures[i % fixtures.size]) }
      end
    end

    def start_operator
      # End watches often, so the quiet window shows that resuming one costs no list.
      @operator = OperatorProcess.new(
        kubeconfig: @cluster.kubeconfig_path, namespace: @namespace, github_base_url: @pages.base_url,
        log: File.join(TMP_DIR, "operator.log"),
        env: { "WATCH_TIMEOUT" => WATCH_TIMEOUT.to_s,
               "STATS_TRACKER_CACHE_DIR" => ENV.fetch("STATS_TRACKER_CACHE_DIR", nil) }
      ).start
      wait_for("operator /readyz", 120) { @operator.http_ok?("/readyz") }
    end

    def scale_run
      expected = PROJECTS * PACKAGES
      @before = @metrics.snapshot
      @operator_before = operator_counts
      @github_before = @pages.request_count
      @started = Bench.now
      @orgs.each_with_index { |org, i| apply_project("bench-#{i}", org) }
      ready = 0
      wait_for("#{expected} Leafs Ready", READY_TIMEOUT, interval: 1.0) do
        ready = ready_leaves
        ready >= expected
      end
      @ready_after = Bench.now - @started
      @peak_rss_ready = Bench.peak_rss_kib(@operator.pid)
      Bench.log("operator: #{ready} Leafs Ready after #{Bench.format_seconds(@ready_after)}")
      settle
      @after = @metrics.snapshot
      @operator_after = operator_counts
      @github_after = @pages.request_count
      @own_scale = @own_requests.dup
    end

    # The Projects re-aggregate once their Leafs report; wait until the API traffic stops.
    def settle
      last = nil
      wait_for("the operator to go quiet", 120, interval: 2.0) do
        now = @metrics.snapshot.writes(RESOURCES)
        quiet = now == last
        last = now
        quiet
      end
    end

    # A second cycle on every Leaf, the way `flux reconcile` asks for one: the bench annotates each
    # Leaf with a reconcile.fluxcd.io/requestedAt token (its own PATCHes are subtracted) and waits
    # until every Leaf reports the token handled. This is the steady-state per-Leaf cost of a cycle.
    def requested_cycle
      token = Time.now.utc.strftime("%Y%m%dT%H%M%S%N")
      names = leaf_names
      before = @metrics.snapshot
      github = @pages.request_count
      own_before = @own_requests.dup
      started = Bench.now
      patch_all(names, token)
      wait_for("#{names.size} Leafs to handle the reconcile request", READY_TIMEOUT, interval: 1.0) do
        handled_leaves(token) >= names.size
      end
      elapsed = Bench.now - started
      settle
      after = @metrics.snapshot
      own = @own_requests.to_h { |key, n| [key, n - own_before.fetch(key, 0)] }
      own_writes = own.sum { |(verb, _), n| ApiserverMetrics::WRITE_VERBS.include?(verb) ? n : 0 }
      @cycle = { leaves: names.size, elapsed: elapsed, github: @pages.request_count - github,
                 writes: after.writes(RESOURCES) - before.writes(RESOURCES) - own_writes,
                 statuses: github_statuses(github), detail: by_verb(after.diff(before, RESOURCES)) }
    end

    def patch_all(names, token)
      queue = Queue.new
      names.each { |n| queue << n }
      queue.close
      body = JSON.generate(metadata: { annotations: { "reconcile.fluxcd.io/requestedAt" => token } })
      Array.new(4) do
        Thread.new do
          while (name = queue.pop)
            res = @cluster.connection.request(Net::HTTP::Patch, "#{@leaves_path}/#{name}", body, "application/merge-patch+json")
            raise "PATCH #{name}: HTTP #{res.status}" unless res.success?
          end
        end
      end.each(&:join)
      @own_requests[%w[PATCH leaves]] += names.size
    end

    def leaf_names
      list_leaves.map { |leaf| leaf.dig("metadata", "name") }
    end

    def handled_leaves(token)
      list_leaves.count { |leaf| leaf.dig("status", "lastHandledReconcileAt") == token }
    end

    def github_statuses(since)
      @pages.requests.drop(since).map { |r| r[:status] }.tally.sort.map { |code, n| "#{code}: #{n}" }.join(", ")
    end

    # Nothing is due (interval 1h); the window spans several watch ends of every informer.
    def resync_window
      window = (WATCH_TIMEOUT * 3) + 2
      before = @metrics.snapshot
      github = @pages.request_count
      Bench.log("operator: quiet window of #{window}s (watches end every #{WATCH_TIMEOUT}s)")
      sleep window
      after = @metrics.snapshot
      @resync = { writes: after.writes(RESOURCES) - before.writes(RESOURCES),
                  reads: after.reads(RESOURCES) - before.reads(RESOURCES),
                  github: @pages.request_count - github, window: window, detail: by_verb(after.diff(before, RESOURCES)) }
      @peak_rss = Bench.peak_rss_kib(@operator.pid)
    end

    def report
      leaves = PROJECTS * PACKAGES
      own_writes = @own_scale.sum { |(verb, _), n| ApiserverMetrics::WRITE_VERBS.include?(verb) ? n : 0 }
      own_reads = @own_scale.sum { |(verb, _), n| ApiserverMetrics::WRITE_VERBS.include?(verb) ? 0 : n }
      writes = @after.writes(RESOURCES) - @before.writes(RESOURCES) - own_writes
      reads = @after.reads(RESOURCES) - @before.reads(RESOURCES) - own_reads
      github = @github_after - @github_before
      client_total = @operator_after.values.sum - @operator_before.values.sum
      name = "#{leaves} Leafs across #{PROJECTS} Projects"
      Results.record(family: "operator", name: "#{name}: apply Projects -> all Leafs Ready", value: @ready_after, unit: "s",
                     note: format("%.1f Leafs/s", leaves / @ready_after))
      Results.record(family: "operator", name: "API writes per Leaf (apiserver_request_total)", value: writes.to_f / leaves,
                     unit: "req", note: by_verb(@after.diff(@before, RESOURCES)))
      Results.record(family: "operator", name: "API reads per Leaf (apiserver_request_total, excl. watches)",
                     value: reads.to_f / leaves, unit: "req",
                     note: "operator's own counter: #{format('%.2f', client_total.to_f / leaves)} req/Leaf (all verbs)")
      Results.record(family: "operator", name: "GitHub-side requests per Leaf (page server log)", value: github.to_f / leaves,
                     unit: "req", note: "#{github} requests incl. #{PROJECTS * (PACKAGES / ListingPages::PER_PAGE.to_f).ceil} listing pages")
      Results.record(family: "operator", name: "operator peak RSS (VmHWM)", value: @peak_rss, unit: "KiB",
                     note: "at all-Ready: #{format('%.1f MiB', @peak_rss_ready.to_i / 1024.0)}")
      Results.record(family: "operator", name: "quiet resync window (#{@resync[:window]}s, nothing due): API writes",
                     value: @resync[:writes], unit: "req",
                     note: "reads (lists): #{@resync[:reads]}, GitHub requests: #{@resync[:github]}; #{@resync[:detail]}")
      Results.record(family: "operator", name: "requested cycle on every Leaf (requestedAt): all handled", value: @cycle[:elapsed],
                     unit: "s", note: "API writes: #{@cycle[:detail]}")
      Results.record(family: "operator", name: "GitHub-side requests per Leaf, requested cycle", value: @cycle[:github].fdiv(@cycle[:leaves]),
                     unit: "req", note: "by status: #{@cycle[:statuses]}")
      # Writes on Leaf objects (create + status) and Events are per Leaf; a Project's own status
      # writes are per Project and shown apart.
      leaf_writes = leaf_cycle_writes(@after.diff(@before, %w[leaves events])) - own_writes_on(@own_scale, %w[leaves events])
      per_leaf = leaf_writes.fdiv(leaves)
      Results.record(family: "target", name: "API writes per Leaf, first cycle (creation)", value: per_leaf, unit: "req",
                     target: "<= 2", met: per_leaf <= 2.0,
                     note: format("Leaf create + status + Events; with the Projects' writes: %.2f per Leaf", per_leaf_all(writes, leaves)))
      cycle = @cycle[:writes].fdiv(@cycle[:leaves])
      Results.record(family: "target", name: "API writes per Leaf, requested cycle", value: cycle, unit: "req",
                     target: "<= 2", met: cycle <= 2.0, note: "the bench's own requestedAt PATCHes subtracted")
      Results.record(family: "target", name: "requests when nothing is due (writes + GitHub)",
                     value: @resync[:writes] + @resync[:github], unit: "req", target: "0",
                     met: (@resync[:writes] + @resync[:github]).zero?)
    end

    def leaf_cycle_writes(diff)
      diff.sum { |(verb, _, _), n| ApiserverMetrics::WRITE_VERBS.include?(verb) ? n : 0 }
    end

    def own_writes_on(own, resources)
      own.sum { |(verb, res), n| ApiserverMetrics::WRITE_VERBS.include?(verb) && resources.include?(res) ? n : 0 }
    end

    def per_leaf_all(writes, leaves)
      writes.fdiv(leaves)
    end

    def by_verb(diff)
      diff.sort_by do |(_, _, _), n|
        -n
      end.first(8).map { |(verb, res, sub), n| "#{verb} #{res}#{"/#{sub}" unless sub.empty?} #{n}" }.join(", ")
    end

    def apply_project(name, org)
      body = { apiVersion: "#{GROUP}/v1alpha1", kind: "Project", metadata: { name: name, namespace: @namespace },
               spec: { owner: org, ownerType: "org", interval: "1h" } }
      @cluster.apply_yaml(JSON.parse(JSON.generate(body)).to_yaml, namespace: @namespace)
      @own_requests[%w[APPLY projects]] += 1
    end

    def ready_leaves
      list_leaves.count do |leaf|
        Array(leaf.dig("status", "conditions")).any? { |c| c["type"] == "Ready" && c["status"] == "True" }
      end
    end

    def list_leaves
      @own_requests[%w[LIST leaves]] += 1
      res = @cluster.connection.get(@leaves_path)
      res.success? ? res.json.fetch("items", []) : []
    end

    def operator_counts
      @operator.metrics.select { |name, _| name.start_with?("stats_tracker_kube_requests_total{") }
    end

    def wait_for(what, timeout, interval: 0.25)
      deadline = Bench.now + timeout
      until yield
        @operator&.check!
        raise "timed out after #{timeout}s waiting for #{what}" if Bench.now > deadline

        sleep interval
      end
    end

    def stop
      @operator&.stop
    ensure
      @pages&.stop
      @cluster&.stop
    end
  end
end

Bench::OperatorBench.new.run if $PROGRAM_NAME == __FILE__
