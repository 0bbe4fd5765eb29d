# frozen_string_literal: true

require "tmpdir"
require_relative "../../rakelib/release/flux_source"
require_relative "support/flux_crds"
require_relative "support/manifests"
require_relative "support/kubectl"

# operator/deploy/flux validated against Flux's own CRD schemas, on the real API server: the
# pinned source-controller and kustomize-controller CRDs are installed, then our GitRepository,
# OCIRepository and Kustomizations are applied (server-side dry run, then for real). No Flux
# controllers run here, so this proves the manifests are what Flux accepts; bin/e2e has real Flux
# reconcile them from a local registry.
RSpec.describe "operator/deploy/flux against Flux's CRDs", kube: true do
  manifests = StatsTracker::Testing::Manifests

  let(:kubectl) { StatsTracker::Testing::DeployKubectl.new(kube) }

  before(:context) do
    cluster = StatsTracker::Testing::KubeCluster.shared
    StatsTracker::Testing::FluxCrds.paths.each { |path| cluster.apply_yaml(path) }
    cluster.delete_namespace("flux-system", wait: true, timeout: 120)
    cluster.apply_yaml(YAML.dump("apiVersion" => "v1", "kind" => "Namespace",
                                 "metadata" => { "name" => "flux-system" }) + "\n")
  end
  after(:context) { StatsTracker::Testing::KubeCluster.shared.delete_namespace("flux-system", wait: true, timeout: 120) }

  def kustomization(build, name)
    build.find("Kustomization", name) || raise("no Kustomization #{name}")
  end

  it "installs Flux's v1 CRDs for the kinds we use" do
    out = kubectl.run("api-resources", "--api-group=source.toolkit.fluxcd.io", "-o", "name").stdout +
          kubectl.run("api-resources", "--api-group=kustomize.toolkit.fluxcd.io", "-o", "name").stdout
    expect(out.split).to include("gitrepositories.source.toolkit.fluxcd.io", "ocirepositories.source.toolkit.fluxcd.io",
                                 "kustomizations.kustomize.toolkit.fluxcd.io")
  end

  # flux/oci as `rake release:publish` writes it out: pointed at the artifact it pushed.
  def published_oci(url: "oci://registry.test:5000/stats-tracker-manifests", tag: "v9", insecure: true)
    Dir.mktmpdir("flux-source-") do |dir|
      Release::FluxSource.new(repo_root: File.expand_path("../..", __dir__))
                         .render(out_dir: dir, url: url, tag: tag, insecure: insecure)
      StatsTracker::Testing::Manifests.build(dir)
    end
  end

  it "accepts flux/git in a server-side dry run" do
    result = kubectl.apply!(manifests.build("flux/git").yaml, dry_run: true)
    expect(result.stdout.scan("serverside-applied (server dry run)").size).to eq(5)
    expect(result.stderr).to eq("")
  end

  it "accepts flux/oci as rake release:publish points it at the pushed artifact, in a server-side dry run" do
    build = published_oci
    expect(build.find("OCIRepository", "stats-tracker")["spec"]).to include(
      "url" => "oci://registry.test:5000/stats-tracker-manifests", "ref" => { "tag" => "v9" }, "insecure" => true
    )
    result = kubectl.apply!(build.yaml, dry_run: true)
    expect(result.stdout.scan("serverside-applied (server dry run)").size).to eq(5)
    expect(result.stderr).to eq("")
  end

  it "refuses flux/oci applied without publishing: it names no registry of its own" do
    result = kubectl.apply(manifests.build("flux/oci").yaml, dry_run: true)
    expect(result.success?).to be(false)
    expect(result.stderr).to include("spec.url: Required value")
  end

  it "asks for TLS unless the publish was to a plain-HTTP registry" do
    expect(published_oci(insecure: false).find("OCIRepository", "stats-tracker")["spec"]).not_to have_key("insecure")
  end

  it "stores the Git install as written, with Flux's defaults filled in" do
    kubectl.apply!(manifests.build("flux/git").yaml)
    stored = JSON.parse(kubectl.run("get", "-n", "flux-system", "kustomizations.kustomize.toolkit.fluxcd.io",
                                    "stats-tracker-operator", "-o", "json").stdout)
    expect(stored.dig("spec", "dependsOn")).to eq([{ "name" => "stats-tracker-crds" }])
    expect(stored.dig("spec", "patches", 0, "target", "kind")).to eq("CustomResourceDefinition")
    # kstatus reads a never-reconciled Kustomization as InProgress, thanks to Flux's status default.
    expect(stored.dig("status", "observedGeneration")).to eq(-1)
    repo = JSON.parse(kubectl.run("get", "-n", "flux-system", "gitrepositories.source.toolkit.fluxcd.io",
                                  "stats-tracker", "-o", "json").stdout)
    expect(repo.dig("spec", "ref", "tag")).to eq("v0.1.0")
  end

  # The schema really is enforced: the acceptance above is not a no-op.
  it "rejects a Kustomization without the fields Flux requires" do
    broken = kustomization(manifests.build("flux/git"), "stats-tracker-samples")
    broken["metadata"]["name"] = "stats-tracker-broken"
    broken["spec"].delete("prune")
    result = kubectl.apply(YAML.dump(broken), dry_run: true)
    expect(result.success?).to be(false)
    expect(result.stderr).to include("spec.prune: Required value")
  end

  it "rejects a Kustomization whose fields have the wrong type" do
    broken = kustomization(manifests.build("flux/git"), "stats-tracker-samples")
    broken["spec"]["wait"] = "yes"
    result = kubectl.apply(YAML.dump(broken), dry_run: true)
    expect(result.success?).to be(false)
    expect(result.stderr).to include(".spec.wait: expected boolean")
  end

  it "refuses the parser's OCIRepository until a registry is patched in, then accepts it in the operator's namespace" do
    kubectl.apply!(YAML.dump("apiVersion" => "v1", "kind" => "Namespace", "metadata" => { "name" => "stats-tracker-system" }))
    unpublished = kubectl.apply(manifests.build("flux/parser").yaml, dry_run: true)
    expect([unpublished.success?, unpublished.stderr]).to match([false, /spec.url: Required value/])

    source = manifests.build("flux/parser").find("OCIRepository", "stats-tracker-parser")
    source["spec"]["url"] = "oci://registry.example:5000/stats-tracker-parser"
    result = kubectl.apply!(YAML.dump(source), dry_run: true)
    expect(result.stdout).to include("ocirepository.source.toolkit.fluxcd.io/stats-tracker-parser serverside-applied (server dry run)")
  ensure
    StatsTracker::Testing::KubeCluster.shared.delete_namespace("stats-tracker-system", wait: true, timeout: 120)
  end

  # The fleet-repository patch operator/deploy/flux/README.md gives for a verified parser source, applied
  # the way kustomize-controller applies a Kustomization's patches: first to our Flux Kustomizations, then
  # (as the patched stats-tracker-parser Kustomization's own patches) to flux/parser.
  it "accepts the parser's OCIRepository with the README's spec.verify patch, in the operator's namespace" do
    readme = File.read(File.join(manifests::DEPLOY_DIR, "flux", "README.md"))
    block = readme.scan(/^```yaml\n(.*?)^```/m).flatten.find { |y| y.include?("name: stats-tracker-parser}") } or
      raise "no parser patch in the flux README"
    fleet = YAML.safe_load(block)
    parser_kustomization = manifests.build_with("flux/kustomizations", patches: fleet.fetch("patches"))
                                    .find("Kustomization", "stats-tracker-parser")
    source = manifests.build_with("flux/parser", patches: parser_kustomization.dig("spec", "patches"))
                      .find("OCIRepository", "stats-tracker-parser")
    expect(source["spec"]).to include("url" => "oci://registry.example.com:5000/stats-tracker-parser",
                                      "verify" => { "provider" => "cosign", "secretRef" => { "name" => "stats-tracker-cosign" } })

    kubectl.apply!(YAML.dump("apiVersion" => "v1", "kind" => "Namespace", "metadata" => { "name" => "stats-tracker-system" }))
    expect(kubectl.apply!(YAML.dump(parser_kustomization), dry_run: true).stdout)
      .to include("kustomization.kustomize.toolkit.fluxcd.io/stats-tracker-parser serverside-applied (server dry run)")
    expect(kubectl.apply!(YAML.dump(source), dry_run: true).stdout)
      .to include("ocirepository.source.toolkit.fluxcd.io/stats-tracker-parser serverside-applied (server dry run)")
  ensure
    StatsTracker::Testing::KubeCluster.shared.delete_namespace("stats-tracker-system", wait: true, timeout: 120)
  end

  it "rejects an OCIRepository whose URL is not oci://" do
    broken = published_oci.find("OCIRepository", "stats-tracker")
    broken["spec"]["url"] = "https://ghcr.io/stats-tracker/stats-tracker-manifests"
    result = kubectl.apply(YAML.dump(broken), dry_run: true)
    expect(result.success?).to be(false)
    expect(result.stderr).to include("spec.url")
  end
end
