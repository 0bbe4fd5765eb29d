# frozen_string_literal: true

# Operator soak: N standalone Leafs with `interval: 1m` (SOAK_INTERVAL), the real operator (operator/operator.rb,
# its own process) against a real kube-apiserver + etcd and the local page server, for M
# minutes. Samples the operator's RSS and CPU time, the page server's request log and the
# operator's own API request counter; prints RSS over time, the slope after warm-up, CPU,
# GitHub and API requests per refresh, and the flatness verdict (bench/lib/soak_analysis.rb).
#
# SOAK_ALLOCATORS=glibc,arena2,jemalloc runs one operator per malloc configuration side by
# side in one cluster (each in its own namespace, N Leafs each), so they share the load.
# SOAK_CHECK=1 exits non-zero when any operator's RSS is not flat (the CI check).
#
#   LEAFS=1000 MINUTES=60 ruby bench/soak.rb

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "net/http"
require "json"
require "rbconfig"
require "fileutils"
require "socket"
require "etc"
require_relative "lib/bench_support"
require_relative "lib/soak_analysis"
require_relative "lib/soak_report"
require_relative "lib/allocators"
require_relative "lib/operator_process"
require_relative "../testing/kube_cluster"
require_relative "../testing/page_server"

module Bench
  # One operator under soak: its process, namespace, page owner and samples.
  SoakRun = Struct.new(:allocator, :namespace, :owner, :operator, :samples, keyword_init: true)

  # Drives the soak; see the file comment.
  class Soak
    GROUP = "stats-tracker.dev"
    LEAFS = Integer(ENV.fetch("LEAFS", "1000"))
    MINUTES = Float(ENV.fetch("MINUTES", "10"))
    SAMPLE_EVERY = Float(ENV.fetch("SOAK_SAMPLE_SECONDS", MINUTES <= 5 ? "5" : "15"))
    ALLOCATORS = ENV.fetch("SOAK_ALLOCATORS", "deployment").split(",").map(&:strip)
    CHECK = %w[1 true yes].include?(ENV.fetch("SOAK_CHECK", "").downcase)
    READY_TIMEOUT = Float(ENV.fetch("SOAK_READY_TIMEOUT", (120 + (LEAFS * ALLOCATORS.size / 10)).to_s))
    CREATORS = 8
    INTERVAL = ENV.fetch("SOAK_INTERVAL", "1m")
    # Settings beyond LEAFS/MINUTES/SOAK_ALLOCATORS: they name the run's own section of RESULTS.md.
    SETTINGS = { "SOAK_INTERVAL" => "interval", "MALLOC_TRIM_INTERVAL" => "trim" }.freeze

    def run
      Bench.log("soak: #{LEAFS} Leafs x #{ALLOCATORS.join('/')} for #{MINUTES} min, load #{Bench.load_average}")
      @load_before = Bench.load_average
      start_cluster
      @runs = ALLOCATORS.map { |name| prepare(name) }
      create_leaves
      @runs.each { |run| start_operator(run) }
      wait_ready
      soak
      report
    ensure
      stop
    end

    private

    def start_cluster
      @cluster = StatsTracker::Testing::KubeCluster.new.start
      crds = File.join(ROOT, "operator", "deploy", "crds")
      @cluster.apply_yaml(File.join(crds, "leaves.yaml"))
      @cluster.apply_yaml(File.join(crds, "projects.yaml"))
      @pages = StatsTracker::Testing::PageServer.new(fixtures_dir: FIXTURES).start
      @fixtures = Bench.package_fixtures.map { |p| File.basename(p) }
    end

    def prepare(allocator)
      Allocators.env(allocator) # fails early on an unknown name or a missing library
      owner = "soak-#{allocator}"
      package_names.each_with_index do |name, i|
        @pages.serve_package(owner: owner, package: name, fixture: @fixtures[i % @fixtures.size])
      end
      SoakRun.new(allocator: allocator, namespace: @cluster.create_namespace("soak-#{allocator}"), owner: owner,
                  samples: [])
    end

    def package_names
      @package_names ||= Array.new(LEAFS) { |i| format("pkg-%05d", i) }
    end

    def create_leaves
      started = Bench.now
      queue = Queue.new
      @runs.each { |run| package_names.each { |name| queue << [run, name] } }
      queue.close
      Array.new(CREATORS) do
        Thread.new do
          connection = @cluster.connection
          while (run, name = queue.pop)
            create_leaf(connection, run, name)
          end
        end
      end.each(&:join)
      Bench.log("soak: #{LEAFS * @runs.size} Leafs created in #{Bench.format_seconds(Bench.now - started)}")
    end

    def create_leaf(connection, run, name)
      path = "/apis/#{GROUP}/v1alpha1/namespaces/#{run.namespace}/leaves"
      body = { apiVersion: "#{GROUP}/v1alpha1", kind: "Leaf", metadata: { name: name, namespace: run.namespace },
               spec: { owner: run.owner, package: name, ownerType: "org", interval: INTERVAL } }
      res = connection.post(path, body)
      raise "POST Leaf #{name}: HTTP #{res.status} #{res.body[0, 200]}" unless res.success?
    end

    def start_operator(run)
      env = { "STATS_TRACKER_POOL_SLOTS" => "4" }.merge(Allocators.env(run.allocator))
      run.operator = OperatorProcess.new(kubeconfig: @cluster.kubeconfig_path, namespace: run.namespace,
                                         github_base_url: @pages.base_url,
                                         log: File.join(TMP_DIR, "soak-operator-#{run.allocator}.log"), env: env).start
    end

    def wait_ready
      started = Bench.now
      @runs.each do |run|
        wait_for("#{run.allocator}: #{LEAFS} Leafs refreshed once", READY_TIMEOUT, run) do
          @pages.request_count("/orgs/#{run.owner}/") >= LEAFS
        end
      end
      Bench.log("soak: every Leaf read once after #{Bench.format_seconds(Bench.now - started)}; soak starts")
    end

    def soak
      @started = Bench.now
      deadline = @started + (MINUTES * 60)
      next_report = @started + 60
      until Bench.now >= deadline
        @runs.each { |run| run.samples << sample(run) }
        if Bench.now >= next_report
          log_progress
          next_report += 60
        end
        sleep [SAMPLE_EVERY, deadline - Bench.now].min.clamp(0, SAMPLE_EVERY)
      end
      @runs.each { |run| run.samples << sample(run) }
      @load_after = Bench.load_average
    end

    def sample(run)
      run.operator.check!
      metrics = run.operator.metrics
      pid = run.operator.pid
      { t: Bench.now - @started, rss_kib: Bench.rss_kib(pid), cpu_s: cpu_seconds(pid),
        github: @pages.request_count("/orgs/#{run.owner}/"),
        kube: metrics.sum { |name, v| name.start_with?("stats_tracker_kube_requests_total{") ? v : 0 },
        cached: metrics.sum { |name, v| name.start_with?("stats_tracker_cached_objects{") ? v : 0 } }
    end

    def log_progress
      line = @runs.map { |run| format("%s %.1f MiB", run.allocator, run.samples.last[:rss_kib] / 1024.0) }.join(", ")
      Bench.log("soak: #{((Bench.now - @started) / 60).round} min: RSS #{line}; load #{Bench.load_average}")
    end

    def report
      set = SETTINGS.filter_map { |var, short| ENV.fetch(var, nil) && [var, short, ENV.fetch(var, nil)] }
      report = SoakReport.new(leafs: LEAFS, minutes: MINUTES, runs: @runs, load: [@load_before, @load_after],
                              interval: INTERVAL, label: ([LEAFS] + set.map { |_, short, v| "#{short}-#{v}" }).join("-"),
                              settings: set.empty? ? nil : set.map { |var, _, v| "#{var}=#{v}" }.join(" "),
                              analyses: @runs.to_h { |run| [run.allocator, SoakAnalysis.new(run.samples)] })
      report.print
      report.record
      path = report.write_csv(TMP_DIR)
      Bench.log("soak: samples in #{path}")
      @failed = report.growing
    end

    public

    def failed
      @failed || []
    end

    private

    # utime + stime of the process, fields 14 and 15 of /proc/<pid>/stat, in clock ticks.
    def cpu_seconds(pid)
      fields = File.read("/proc/#{pid}/stat").split(") ", 2).last.split
      (Integer(fields[11]) + Integer(fields[12])) / Float(Etc.sysconf(Etc::SC_CLK_TCK))
    end

    def wait_for(what, timeout, run)
      deadline = Bench.now + timeout
      until yield
        run.operator.check!
        raise "timed out after #{timeout}s waiting for #{what}" if Bench.now > deadline

        sleep 1
      end
    end

    def stop
      Array(@runs).each { |run| run.operator&.stop }
      @pages&.stop
      @cluster&.stop
    end
  end
end

if $PROGRAM_NAME == __FILE__
  soak = Bench::Soak.new
  soak.run
  unless soak.failed.empty?
    Bench.log("soak: RSS grew for #{soak.failed.join(', ')}")
    exit 1 if Bench::Soak::CHECK
  end
end
