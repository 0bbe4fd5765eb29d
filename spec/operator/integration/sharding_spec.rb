# frozen_string_literal: true

require "rbconfig"
require_relative "../support/operator_harness"

# Flux-style sharding: one operator Deployment per label selector on sharding.fluxcd.io/key.
RSpec.describe "operator shards", kube: true do
  include StatsTracker::Testing::OperatorHarness

  let(:pages) { StatsTracker::Testing::PageServer.new.start }
  let(:operators) { %w[shard-one shard-rest] }

  before { install_crds }

  after do
    Array(@pids).each do |pid|
      Process.kill("TERM", pid)
      Process.wait(pid)
    rescue Errno::ESRCH, Errno::ECHILD
      nil
    end
    pages.stop
  end

  def spawn_shard(manager, selector)
    log = File.join(Dir.tmpdir, "stats-tracker-#{namespace}-#{manager}.log")
    env = { "KUBECONFIG" => kube.kubeconfig_path, "GITHUB_BASE_URL" => pages.base_url, "WATCH_NAMESPACE" => namespace,
            "FIELD_MANAGER" => manager, "METRICS_ADDR" => "127.0.0.1:0", "GITHUB_RATE" => "50", "GITHUB_BURST" => "50",
            "LOG_FORMAT" => "json" }
    pid = Process.spawn(env, RbConfig.ruby, File.join(StatsTracker::Testing::OperatorHarness::ROOT, "operator", "operator.rb"),
                        "--watch-label-selector", selector, out: log, err: log, pgroup: true)
    (@pids ||= []) << pid
  end

  def apply_labelled(name, shard, **spec)
    labels = shard ? { "sharding.fluxcd.io/key": shard } : {}
    api_for("projects").apply({ apiVersion: "stats-tracker.dev/v1alpha1", kind: "Project",
                                metadata: { name: name, namespace: namespace, labels: labels },
                                spec: { owner: "fluxcd" }.merge(spec) })
  end

  # Field managers of the operators that have written this object, its status included.
  def writers(object)
    Array(object.dig(:metadata, :managedFields)).map { |f| f[:manager] } & operators
  end

  it "never lets two shards reconcile the same Project or Leaf" do
    serve_fluxcd(pages)
    spawn_shard("shard-one", "sharding.fluxcd.io/key=one")
    spawn_shard("shard-rest", "!sharding.fluxcd.io/key")
    apply_labelled("sharded", "one", include: ["flagger*"])
    apply_labelled("unsharded", nil, include: ["flux-*"])
    wait_project_ready("sharded", packages: 3)
    wait_project_ready("unsharded", packages: 4)
    request_reconcile("projects", "sharded")
    request_reconcile("projects", "unsharded")
    leaves.each { |l| request_reconcile("leaves", l.dig(:metadata, :name)) }
    wait_for("every request handled") do
      (leaves + [project("sharded"), project("unsharded")]).all? do |o|
        o.dig(:status, :lastHandledReconcileAt) == o.dig(:metadata, :annotations, :"reconcile.fluxcd.io/requestedAt")
      end
    end

    expect(writers(project("sharded"))).to eq(["shard-one"])
    expect(writers(project("unsharded"))).to eq(["shard-rest"])
    by_project = leaves.group_by { |l| l.dig(:metadata, :labels, :"stats-tracker.dev/project") }
    expect(by_project.fetch("sharded").map { |l| writers(l) }.uniq).to eq([["shard-one"]])
    expect(by_project.fetch("unsharded").map { |l| writers(l) }.uniq).to eq([["shard-rest"]])
    expect(by_project.fetch("sharded").map { |l| l.dig(:metadata, :labels, :"sharding.fluxcd.io/key") }.uniq).to eq(["one"])
  end
end
