# frozen_string_literal: true

# The operator's main job, end to end on this machine: a local Kubernetes API server
# (etcd + kube-apiserver + kube-controller-manager), a local page server standing in for
# github.com with the fluxcd listing from the project's corpus (spec/fixtures/ghcr), and
# `ruby operator/operator.rb`.

module OperatorDemo
  ROOT = File.expand_path("..", __dir__)
  SAMPLE_PROJECT = File.join(ROOT, "operator", "deploy", "samples", "project_fluxcd.yaml")
  LISTING = %w[listing-fluxcd-page1.html listing-fluxcd-page2.html listing-fluxcd-page3.html].freeze
  # Real-sized package pages from the corpus, spread over the listed packages so the table shows
  # varied counts (the corpus has no per-package page for every fluxcd package).
  PACKAGE_FIXTURES = %w[
    package-source-controller-2023.html package-small-42.html package-12k-lowercase.html
    package-987-no-chart-2023.html package-int32-max.html package-above-int32-largest.html
    package-mid-era-multiline.html package-no-last-published.html package-slash-name-oneline.html
    package-attr-order-2023.html package-whitespace-attrs.html package-zero-downloads.html
  ].freeze

  module_function

  def load_support
    $LOAD_PATH.unshift(File.join(ROOT, "lib"), File.join(ROOT, "operator", "lib"))
    require "stats_tracker"
    require File.join(ROOT, "testing", "page_server")
    Object.const_set(:GHCR_FIXTURES, StatsTracker::Testing::PageServer::DEFAULT_FIXTURES_DIR) unless defined?(GHCR_FIXTURES)
    require File.join(ROOT, "testing", "kube_cluster")
  end

  def serve_fluxcd(pages)
    parser = StatsTracker::Parser.new
    pages.serve_listing(owner: "fluxcd", pages: LISTING)
    names = LISTING.flat_map { |f| parser.listing(File.binread(File.join(GHCR_FIXTURES, f))).packages.map(&:name) }
    names.each_with_index do |name, i|
      pages.serve_package(owner: "fluxcd", package: name, fixture: PACKAGE_FIXTURES[i % PACKAGE_FIXTURES.size])
    end
    names
  end

  # The operator records every observation here and serves the dashboard over it (UI_ADDR).
  HISTORY = File.join(Dir.tmpdir, "stats-tracker-demo-history.sqlite3")

  def spawn_operator(kube, pages, log_path, metrics_port, ui_port)
    env = { "KUBECONFIG" => kube.kubeconfig_path, "GITHUB_BASE_URL" => pages.base_url,
            "STATS_TRACKER_DATABASE_URL" => "sqlite://#{HISTORY}", "UI_ADDR" => "127.0.0.1:#{ui_port}",
            "METRICS_ADDR" => "127.0.0.1:#{metrics_port}", "LEADER_ELECT" => "true", "LEASE_NAMESPACE" => "default",
            "GITHUB_RATE" => ENV.fetch("GITHUB_RATE", "20"), "GITHUB_BURST" => ENV.fetch("GITHUB_BURST", "20") }
    Process.spawn(env, RbConfig.ruby, File.join(ROOT, "operator", "operator.rb"), out: log_path, err: log_path)
  end

  def kubectl!(kube, *args)
    out, status = kube.kubectl(*args)
    raise "kubectl #{args.join(' ')}: #{kube.last_kubectl_stderr}" unless status.success?

    out
  end

  def free_port = StatsTracker::Testing::Kube::FreePort.pick

  def run
    load_support
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    kube = StatsTracker::Testing::KubeCluster.new.start
    pages = StatsTracker::Testing::PageServer.new.start
    log_path = File.join(Dir.tmpdir, "stats-tracker-demo-operator.log")
    pid = nil
    begin
      puts "API server   #{kube.api_url} (#{(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).round(1)} s to start)"
      kube.apply_yaml(File.join(ROOT, "operator", "deploy", "crds"))
      names = serve_fluxcd(pages)
      puts "page server  #{pages.base_url} (fluxcd listing: 3 pages, #{names.size} packages)"
      port = free_port
      ui_port = free_port
      FileUtils.rm_f(HISTORY)
      pid = spawn_operator(kube, pages, log_path, port, ui_port)
      puts "operator     pid #{pid}, log #{log_path}, metrics http://127.0.0.1:#{port}/metrics"

      kube.apply_yaml(File.read(File.join(ROOT, "operator", "deploy", "samples", "namespace.yaml")))
      applied_at = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      kube.apply_yaml(SAMPLE_PROJECT)
      # kstatus-style wait, exactly what Flux health checks and people use.
      kubectl!(kube, "wait", "--for=condition=Ready", "--timeout=180s", "-n", "stats-tracker-samples", "project/fluxcd")
      # Ready is the listing's; the Leafs' health is LeavesReady.
      kubectl!(kube, "wait", "--for=condition=LeavesReady", "--timeout=180s", "-n", "stats-tracker-samples",
               "project/fluxcd")
      ready_in = Process.clock_gettime(Process::CLOCK_MONOTONIC) - applied_at
      puts "\nProject fluxcd Ready #{ready_in.round(2)} s after it was applied\n\n"
      puts kubectl!(kube, "get", "projects", "-n", "stats-tracker-samples")
      puts
      puts kubectl!(kube, "get", "leaves", "-n", "stats-tracker-samples")
      requests = Net::HTTP.get(URI("http://127.0.0.1:#{port}/metrics")).lines.grep(/^stats_tracker_(kube|github)_requests_total/)
      puts "\nrequests made by the operator:\n#{requests.join}"
      recorded = wait_for_history(names.size)
      puts "\nhistory      #{recorded} packages recorded in #{HISTORY}"
      raise "demo: the operator recorded #{recorded} of #{names.size} packages in the history store" if recorded < names.size

      dashboard = Net::HTTP.get_response(URI("http://127.0.0.1:#{ui_port}/"))
      raise "demo: the operator's dashboard answered #{dashboard.code}" unless dashboard.is_a?(Net::HTTPOK)

      puts "dashboard    http://127.0.0.1:#{ui_port}/ (served by the operator while it runs)"
    ensure
      stopped = stop_operator(pid) if pid
      pages.stop
      kube.stop
    end
    raise "demo: the operator exited #{stopped.inspect} on SIGTERM, not 0" if pid && stopped != 0

    puts "\nThe dashboard over the demo's history, after the demo:\n  " \
         "STATS_TRACKER_DATABASE_URL=sqlite://#{HISTORY} bundle exec exe/stats-tracker serve   # http://127.0.0.1:9292/"
  end

  # SIGTERM is how a kubelet stops the Pod: the operator drains and exits 0.
  def stop_operator(pid)
    Process.kill("TERM", pid)
    _, status = Process.wait2(pid)
    puts "operator stopped (exit #{status.exitstatus.inspect})"
    status.exitstatus
  end

  # The operator writes history off its reconcile path, so the last rows may trail Ready.
  def wait_for_history(expected, seconds: 60)
    require "stats_tracker/history"
    store = StatsTracker::History.open(url: "sqlite://#{HISTORY}")
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
    loop do
      count = store.packages.size
      return count if count >= expected || Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.2
    end
  ensure
    store&.close
  end
end

desc "Demo: local API server + page server + operator; apply a sample Project, wait for Ready, print the Leafs"
task demo: :compile do
  require "fileutils"
  require "net/http"
  require "rbconfig"
  require "tmpdir"
  sh "testing/kube/build.sh" unless ENV["SKIP_KUBE_BUILD"]
  OperatorDemo.run
end

namespace :operator do
  desc "Run the operator against $KUBECONFIG (e.g. from `rake kube:up`); env as in operator/README.md"
  task run: :compile do
    ruby File.join(OperatorDemo::ROOT, "operator", "operator.rb")
  end

  desc "Operator specs only (unit + against the local API server)"
  task :spec do
    sh "bundle", "exec", "rspec", "spec/operator"
  end
end
