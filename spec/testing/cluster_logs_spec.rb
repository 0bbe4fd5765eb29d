# frozen_string_literal: true

require "open3"
require "tmpdir"
require "yaml"
require_relative "../../testing/e2e/cluster_logs"

# What bin/e2e keeps of the operator Pods and the cluster's Events before teardown, here against
# the real API server (no kubelet: the Pods never run, so their logs cannot be fetched and the
# files must say why instead of the run stopping). bin/e2e exercises the same code with running Pods.
RSpec.describe StatsTracker::E2E::ClusterLogs, kube: true do
  # The one method ClusterLogs needs of the e2e node: kubectl against its cluster.
  cluster_kubectl = Struct.new(:kube) do
    def kubectl(*args, stdin_data: "")
      Open3.capture3(StatsTracker::Testing::Kube::Binaries.locate.path("kubectl"), "--kubeconfig", kube.kubeconfig_path,
                     *args.map(&:to_s), stdin_data: stdin_data)
    end
  end

  let(:node) { cluster_kubectl.new(kube) }
  let(:dir) { Dir.mktmpdir("cluster-logs-") }

  after { FileUtils.rm_rf(dir) }

  def pod(name, app)
    { "apiVersion" => "v1", "kind" => "Pod", "metadata" => { "name" => name, "namespace" => namespace, "labels" => { "app" => app } },
      "spec" => { "containers" => [{ "name" => "main", "image" => "example.invalid/none:1" }] } }
  end

  def apply(object)
    out, err, status = node.kubectl("apply", "--server-side", "-f", "-", stdin_data: YAML.dump(object))
    raise "apply failed: #{out}#{err}" unless status.success?
  end

  it "writes every Event, and for each selected Pod its logs and the restarted container's previous logs or why not" do
    apply(pod("operator-a", "operator"))
    apply(pod("bystander", "other"))
    status = { "status" => { "containerStatuses" => [{ "name" => "main", "ready" => false, "restartCount" => 2, "image" => "example.invalid/none:1",
                                                       "imageID" => "", "state" => { "waiting" => { "reason" => "CrashLoopBackOff" } } }] } }
    _out, err, patched = node.kubectl("patch", "pod", "operator-a", "-n", namespace, "--subresource=status", "--type=merge", "-p", status.to_json)
    raise "status patch failed: #{err}" unless patched.success?

    apply("apiVersion" => "events.k8s.io/v1", "kind" => "Event",
          "metadata" => { "name" => "operator-a.spec", "namespace" => namespace },
          "eventTime" => Time.now.utc.strftime("%Y-%m-%dT%H:%M:%S.%6NZ"), "reportingController" => "spec.example/cluster-logs",
          "reportingInstance" => "spec", "action" => "Check", "reason" => "ClusterLogsSpecEvent", "type" => "Normal",
          "regarding" => { "kind" => "Pod", "name" => "operator-a", "namespace" => namespace })

    written = described_class.new(node: node, namespace: namespace, selector: "app=operator").write(dir)

    expect(written.map { |f| File.basename(f) }).to contain_exactly("events.txt", "pods.json", "operator-a.log",
                                                                    "operator-a.main.previous.log")
    expect(File.read(File.join(dir, "events.txt"))).to include("ClusterLogsSpecEvent")
    expect(File.read(File.join(dir, "pods.json"))).to include('"name": "operator-a"')
  end

  # As when the Deployment replaces a Pod while the run ends: the listing names a Pod that is gone.
  it "writes what kubectl said for a Pod that went away after the listing" do
    apply(pod("operator-b", "operator"))
    vanishing = node.dup
    def vanishing.kubectl(*args, **opts)
      result = super
      super("delete", "pod", "operator-b", "-n", args[args.index("-n") + 1], "--wait=true", "--grace-period=0", "--force") if args[0, 2] == %w[get pods]
      result
    end

    described_class.new(node: vanishing, namespace: namespace, selector: "app=operator").write(dir)

    expect(File.read(File.join(dir, "operator-b.log"))).to match(/kubectl logs .*operator-b.* failed: .*not found/)
  end

  it "leaves a file saying why when kubectl cannot run at all, and raises nothing" do
    broken = Object.new
    def broken.kubectl(*) = raise(Errno::ENOENT, "kubectl")

    written = described_class.new(node: broken, namespace: "stats-tracker-system", selector: "app=operator").write(dir)

    expect(written.map { |f| File.basename(f) }).to eq(%w[events.txt pods.json])
    expect(File.read(File.join(dir, "events.txt"))).to include("could not run: Errno::ENOENT")
  end
end
