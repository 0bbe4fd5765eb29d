# frozen_string_literal: true

require "net/http"
require "rbconfig"
require "time"
require "digest"
require_relative "../support/operator_harness"

# The operator as it really runs: `ruby operator/operator.rb` processes, configured by environment.
RSpec.describe "operator processes", kube: true do
  include StatsTracker::Testing::OperatorHarness

  let(:pages) { StatsTracker::Testing::PageServer.new.start }
  let(:lease_duration) { 4 }
  let(:retry_period) { 1 }

  before { install_crds }

  after do
    @processes&.each_value { |p| stop_process(p, "KILL") }
    pages.stop
  end

  def spawn_operator(identity, extra_env = {})
    port = free_port
    log = File.join(Dir.tmpdir, "stats-tracker-operator-#{namespace}-#{identity}.log")
    env = {
      "KUBECONFIG" => kube.kubeconfig_path, "GITHUB_BASE_URL" => pages.base_url, "WATCH_NAMESPACE" => namespace,
      "LEADER_ELECT" => "true", "LEASE_NAMESPACE" => namespace, "LEASE_NAME" => "stats-tracker", "POD_NAME" => identity,
      "LEASE_DURATION" => lease_duration.to_s, "RENEW_DEADLINE" => "3", "RETRY_PERIOD" => retry_period.to_s,
      "METRICS_ADDR" => "127.0.0.1:#{port}", "LOG_FORMAT" => "json", "GITHUB_RATE" => "50", "GITHUB_BURST" => "50"
    }.merge(extra_env)
    pid = Process.spawn(env, RbConfig.ruby, File.join(StatsTracker::Testing::OperatorHarness::ROOT, "operator", "operator.rb"),
                        out: log, err: log, pgroup: true)
    (@processes ||= {})[identity] = { pid: pid, port: port, log: log }
  end

  def stop_process(process, signal)
    Process.kill(signal, process[:pid])
    Process.wait(process[:pid])
  rescue Errno::ESRCH, Errno::ECHILD
    nil
  end

  def lease
    api_for("leases").get("stats-tracker", namespace)
  end

  def holder
    lease&.dig(:spec, :holderIdentity)
  end

  def get(port, path)
    Net::HTTP.get_response(URI("http://127.0.0.1:#{port}#{path}"))
  rescue SystemCallError, IOError
    nil
  end

  it "lets only the leader reconcile, and a standby takes over when the leader dies" do
    serve_fluxcd(pages)
    a = spawn_operator("operator-a")
    wait_for("operator-a to lead") { holder == "operator-a" }
    b = spawn_operator("operator-b")
    wait_for("operator-b to serve /readyz") { get(b[:port], "/readyz")&.code == "200" }

    apply_project("fluxcd", include: ["flagger*"])
    wait_project_ready("fluxcd", packages: 3)
    wait_for("operator-a to export the counts") do
      metric_value(metrics_text(a[:port]), "stats_tracker_package_downloads_total", package: "flagger").positive?
    end
    b_metrics = metrics_text(b[:port])
    expect(metric_value(b_metrics, "stats_tracker_leader")).to eq(0)
    expect(metric_value(b_metrics, "stats_tracker_github_requests_total")).to eq(0)
    expect(metric_value(b_metrics, "stats_tracker_reconcile_total")).to eq(0)
    expect(metric_value(metrics_text(a[:port]), "stats_tracker_leader")).to eq(1)

    last_renewal = Time.parse(lease.dig(:spec, :renewTime))
    stop_process(a, "KILL")
    wait_for("operator-b to take the lease") { holder == "operator-b" }
    acquired = Time.parse(lease.dig(:spec, :acquireTime))
    # The Lease's own timestamps: B acquired it once A's lease ran out (plus at most one retry period).
    expect(acquired - last_renewal).to be <= lease_duration + (2 * retry_period) + 1
    expect(lease.dig(:spec, :leaseTransitions)).to eq(1)

    serve_count(pages, "flagger", 123_456)
    request_reconcile("leaves", "fluxcd-flagger")
    wait_for("operator-b to reconcile") { leaf("fluxcd-flagger").dig(:status, :downloadCount) == 123_456 }
    expect(metric_value(metrics_text(b[:port]), "stats_tracker_github_requests_total")).to be_positive
  end

  it "exits cleanly on SIGTERM, releasing the lease and leaving every status whole" do
    serve_fluxcd(pages)
    a = spawn_operator("operator-a")
    apply_project("fluxcd", include: ["flux-*"])
    wait_project_ready("fluxcd", packages: 4)
    expect(get(a[:port], "/healthz")&.code).to eq("200")
    expect(metrics_text(a[:port])).to match(/stats_tracker_reconcile_duration_seconds_count\{controller="leaf"\} [1-9]/)

    # Work in flight at the signal: a slow package page.
    pages.delay_next("/orgs/fluxcd/packages/container/package/flux-cli", seconds: 2)
    serve_count(pages, "flux-cli", 77)
    request_reconcile("leaves", "fluxcd-flux-cli")
    # The page server's in-flight counter is the only way to see a request that has not finished.
    wait_for("the slow request to start") { pages.instance_variable_get(:@in_flight).positive? }
    Process.kill("TERM", a[:pid])
    _, status = Process.wait2(a[:pid])
    @processes.delete("operator-a")

    expect(status.exitstatus).to eq(0)
    expect(holder.to_s).to eq("")
    expect(File.read(a[:log])).to include('"msg":"lease released"', '"msg":"stopped"')
    leaves.each do |l|
      expect(l.dig(:status, :downloadCount)).to be_a(Integer)
      expect(condition(l)).to include(status: "True")
    end
  end

  describe "a parser component supplied at run time" do
    let(:component) { StatsTracker::Parser::BUNDLED_COMPONENT }

    it "refuses to start when the component's digest does not match" do
      a = spawn_operator("operator-a", "STATS_TRACKER_PARSER_COMPONENT" => component,
                                       "STATS_TRACKER_PARSER_COMPONENT_SHA256" => "0" * 64)
      _, status = Process.wait2(a[:pid])
      @processes.delete("operator-a")
      expect(status.exitstatus).to eq(1)
      expect(File.read(a[:log])).to include('"msg":"cannot start"')
      expect(holder).to be_nil
    end

    it "loads it when the digest matches and reconciles with it" do
      serve_fluxcd(pages)
      spawn_operator("operator-a", "STATS_TRACKER_PARSER_COMPONENT" => component,
                                   "STATS_TRACKER_PARSER_COMPONENT_SHA256" => Digest::SHA256.file(component).hexdigest)
      apply_project("fluxcd", include: ["flagger"])
      wait_project_ready("fluxcd", packages: 1)
    end
  end
end
