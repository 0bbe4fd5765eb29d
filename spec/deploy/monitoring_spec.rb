# frozen_string_literal: true

require "json"
require "open3"
require "yaml"
require_relative "../operator/support/operator_harness"

# operator/deploy/monitoring against the real thing: promtool checks the PrometheusRule, then
# Debian's Prometheus scrapes two real operators (one reconciling, one standby behind a Lease
# another identity holds) while a Leaf's page starts failing and the leader's history store cannot
# be opened, and every alert expression and every Grafana query must return data, every alert
# must be pending or firing.
RSpec.describe "operator/deploy/monitoring", kube: true do
  include StatsTracker::Testing::OperatorHarness

  dir = File.join(StatsTracker::Testing::OperatorHarness::ROOT, "operator", "deploy", "monitoring")
  rule = YAML.safe_load(File.read(File.join(dir, "prometheus_rule.yaml")))
  dashboard = JSON.parse(File.read(File.join(dir, "grafana_dashboard.json")))

  let(:pages) { StatsTracker::Testing::PageServer.new.start }

  around do |example|
    Dir.mktmpdir("monitoring-spec-") do |tmp|
      @rules_file = File.join(tmp, "rules.yml")
      File.write(@rules_file, YAML.dump(rule.fetch("spec")))
      example.run
    end
  end

  before do
    # A missing Prometheus must fail the run, not skip it: bin/setup installs it.
    raise "prometheus is not installed (bin/setup installs it)" unless StatsTracker::Testing::PrometheusServer.available?
  end

  after do
    @prometheus&.stop
    stop_operators
    pages.stop
  end

  it "has rules promtool accepts and a kustomization that builds the three objects" do
    out, status = Open3.capture2e("promtool", "check", "rules", @rules_file)
    expect(status).to be_success, out
    expect(out).to include("SUCCESS: 6 rules found")
    kustomization = YAML.safe_load(File.read(File.join(dir, "kustomization.yaml")))
    expect(kustomization["resources"]).to contain_exactly("pod_monitor.yaml", "prometheus_rule.yaml")
    expect(dashboard["panels"].flat_map { |p| p["targets"].map { |t| t["expr"] } })
      .to include(a_string_including("increase(stats_tracker_package_downloads_total"))
  end

  it "evaluates every alert and dashboard query to data against two real operators" do
    install_crds
    counts = serve_fluxcd(pages)
    api_for("leases").apply(
      { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { name: "held-elsewhere", namespace: namespace },
        spec: { holderIdentity: "another-replica", leaseDurationSeconds: 3600,
                renewTime: Time.now.utc.strftime("%Y-%m-%dT%H:%M:%S.%6NZ") } }
    )
    leader_port = free_port
    standby_port = free_port
    # A history store whose directory is a regular file: SQLite cannot open it, so every write fails.
    not_a_dir = File.join(File.dirname(@rules_file), "not-a-directory")
    File.write(not_a_dir, "")
    # A limit this process's RSS is already near, and the sizing formula's base alone exceeds:
    # both memory alerts fire on the leader.
    start_operator(pages, metrics_bind: "127.0.0.1", metrics_port: leader_port,
                          history_url: "sqlite://#{not_a_dir}/history.sqlite3", memory_limit: 64 * 1024 * 1024)
    start_operator(pages, metrics_bind: "127.0.0.1", metrics_port: standby_port, leader_elect: true,
                          lease_namespace: namespace, lease_name: "held-elsewhere", identity: "standby")
    # The shortest interval the CRD allows: the stale alert needs three of them without a success.
    apply_project("fluxcd", interval: "1m", include: ["flagger*"])
    wait_project_ready("fluxcd", packages: 3)
    # flagger's page is gone now: its Leaf turns not Ready and its count ages past three intervals.
    pages.remove(pages.package_path("fluxcd", "flagger"))

    @prometheus = StatsTracker::Testing::PrometheusServer.new(
      jobs: { "stats-tracker-operator" => ["127.0.0.1:#{leader_port}"], "stats-tracker-standby" => ["127.0.0.1:#{standby_port}"] },
      rule_files: [@rules_file], port: free_port
    ).start

    alerts = rule.dig("spec", "groups").flat_map { |g| g["rules"] }
    queries = dashboard["panels"].flat_map { |p| p["targets"].map { |t| t["expr"].gsub("$namespace", ".*") } }
    (alerts.map { |a| a["expr"] } + queries).each do |expr|
      wait_for("data for #{expr}", timeout: 360, interval: 1) { @prometheus.query(expr).any? }
    end

    wait_for("every alert pending or firing", timeout: 180, interval: 1) do
      @prometheus.rules.all? { |r| r["type"] != "alerting" || %w[pending firing].include?(r["state"]) }
    end
    stale = @prometheus.query(alerts.find { |a| a["alert"] == "StatsTrackerDownloadCountStale" }["expr"])
    expect(stale.map { |s| s.dig("metric", "package") }).to eq(["flagger"])
    no_leader = @prometheus.query(alerts.find { |a| a["alert"] == "StatsTrackerNoLeader" }["expr"])
    expect(no_leader.map { |s| s.dig("metric", "job") }).to eq(["stats-tracker-standby"])
    behind = @prometheus.query(alerts.find { |a| a["alert"] == "StatsTrackerHistoryWritesBehind" }["expr"])
    expect(behind.map { |s| s.dig("metric", "job") }).to eq(["stats-tracker-operator"])
    %w[StatsTrackerMemoryNearLimit StatsTrackerCacheOutgrowsLimit].each do |name|
      memory = @prometheus.query(alerts.find { |a| a["alert"] == name }["expr"])
      expect(memory.map { |s| s.dig("metric", "job") }).to eq(["stats-tracker-operator"]), name
    end
    downloads = @prometheus.query('stats_tracker_package_downloads_total{package="flagger-loadtester"}')
    expect(downloads.map { |s| Integer(s.dig("value", 1)) }).to eq([counts.fetch("flagger-loadtester")])
  end
end
