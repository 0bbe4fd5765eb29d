# frozen_string_literal: true

require_relative "support/installation"

# The kustomize output goes to the real API server (etcd + kube-apiserver of the kube harness):
# first as a server-side dry run, which runs defaulting, schema validation and admission
# (Pod Security included) without persisting, then for real.
RSpec.describe "operator/deploy applied to a real API server", kube: true, order: :defined do
  manifests = StatsTracker::Testing::Manifests
  installation = StatsTracker::Testing::DeployInstallation

  let(:kubectl) { StatsTracker::Testing::DeployKubectl.new(kube) }

  before(:context) { installation.uninstall(StatsTracker::Testing::KubeCluster.shared) }
  after(:context) { installation.uninstall(StatsTracker::Testing::KubeCluster.shared) }

  it "accepts the cluster-scoped part of base in a dry run and persists none of it" do
    build = manifests.build("base")
    cluster_scoped = build.documents.reject { |d| d.dig("metadata", "namespace") }
    result = kubectl.apply!(YAML.dump_stream(*cluster_scoped), dry_run: true)
    expect(result.stdout).to include("namespace/stats-tracker-system serverside-applied (server dry run)")
    expect(kubectl.exists?("namespace", "stats-tracker-system")).to be(false)
    expect(kubectl.exists?("clusterrole", "stats-tracker-operator")).to be(false)
  end

  it "accepts all of base in a dry run once its namespace exists, without Pod Security warnings" do
    kubectl.apply!(YAML.dump(manifests.build("base").find("Namespace", "stats-tracker-system")))
    result = kubectl.apply!(manifests.build("base").yaml, dry_run: true)
    expect(result.stdout).to include("deployment.apps/stats-tracker-operator serverside-applied (server dry run)")
    # The namespace enforces the "restricted" Pod Security Standard; a violating pod template
    # would be reported here as "would violate PodSecurity".
    expect(result.stderr).not_to include("PodSecurity")
    expect(kubectl.exists?("deployment", "-n", "stats-tracker-system", "stats-tracker-operator")).to be(false)
  end

  it "rejects a broken variant in the same dry run, so the acceptance above means something" do
    deployment = manifests.build("base").find("Deployment", "stats-tracker-operator")
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["runAsNonRoot"] = "yes"
    result = kubectl.apply(YAML.dump(deployment), dry_run: true)
    expect(result.success?).to be(false)
    expect(result.stderr).to match(/runAsNonRoot/)
  end

  it "warns when a pod template breaks the namespace's restricted Pod Security level" do
    deployment = manifests.build("base").find("Deployment", "stats-tracker-operator")
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"] = { "add" => ["NET_ADMIN"] }
    result = kubectl.apply!(YAML.dump(deployment), dry_run: true)
    expect(result.stderr).to match(/would violate PodSecurity "restricted/)
  end

  it "applies base for real: CRDs established, identity, RBAC and workload stored as built" do
    installation.install(kube, "base")
    %w[serviceaccount/stats-tracker-operator deployment/stats-tracker-operator
       service/stats-tracker-operator-metrics role/stats-tracker-leader-election
       rolebinding/stats-tracker-leader-election].each do |object|
      expect(kubectl.exists?("-n", "stats-tracker-system", object)).to be(true), "#{object} missing"
    end
    stored = JSON.parse(kubectl.run("get", "-n", "stats-tracker-system", "deployment/stats-tracker-operator",
                                    "-o", "json").stdout)
    expect(stored.dig("spec", "template", "spec", "securityContext", "seccompProfile", "type")).to eq("RuntimeDefault")
    expect(stored.dig("spec", "replicas")).to eq(2)
  end

  %w[overlays/dev overlays/production].each do |overlay|
    it "accepts #{overlay} as an update of the installed base (dry run)" do
      result = kubectl.apply!(manifests.build(overlay).yaml, dry_run: true)
      expect(result.stdout).to include("deployment.apps/stats-tracker-operator serverside-applied (server dry run)")
      expect(result.stderr).not_to include("PodSecurity")
    end
  end

  it "applies the samples: the Project is stored and reads InProgress to kstatus until reconciled" do
    samples = manifests.build("samples")
    # Namespaced objects cannot be dry-run into a namespace that does not exist yet.
    kubectl.apply!(YAML.dump(samples.find("Namespace", "stats-tracker-samples")))
    expect(kubectl.apply!(samples.yaml, dry_run: true).stdout)
      .to include("project.stats-tracker.dev/fluxcd serverside-applied (server dry run)")
    installation.install(kube, "samples")
    project = JSON.parse(kubectl.run("get", "-n", "stats-tracker-samples", "projects.stats-tracker.dev/fluxcd",
                                     "-o", "json").stdout)
    expect(project.dig("spec", "owner")).to eq("fluxcd")
    expect(project.dig("spec", "interval")).to eq("1h")
    # No operator runs here, so nothing has been observed: the CRD's default keeps kstatus at InProgress.
    expect(project.dig("status", "observedGeneration")).to eq(-1)
  end
end
