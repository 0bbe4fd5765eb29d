# frozen_string_literal: true

require "open3"
require "rbconfig"
require "tmpdir"

# `bin/kube-local up`, as the README's Operator section gives it: a control plane a person can
# point kubectl and the operator at, which outlives the command and which `down` stops.
RSpec.describe "bin/kube-local" do
  let(:root) { File.expand_path("../..", __dir__) }

  around do |example|
    Dir.mktmpdir("kube-local-spec-") do |dir|
      @state_dir = dir
      example.run
    ensure
      kube_local("down")
    end
  end

  def kube_local(*args)
    out, err, status = Open3.capture3(RbConfig.ruby, File.join(root, "bin", "kube-local"), *args,
                                      "--state-dir", @state_dir, chdir: root)
    [out, err, status.exitstatus]
  end

  def kubectl(kubeconfig, *args)
    binary = StatsTracker::Testing::Kube::Binaries.locate.path("kubectl")
    out, err, status = Open3.capture3({ "KUBECONFIG" => kubeconfig }, binary, *args)
    [out, err, status.exitstatus]
  end

  it "starts a cluster in the background with CRDs applied, reports it, and stops it on down" do
    out, err, code = kube_local("up", "--apply", "operator/deploy/crds")
    expect(code).to eq(0), err
    kubeconfig = out[/^export KUBECONFIG=(\S+)$/, 1]
    expect(kubeconfig).not_to be_nil

    crds, err, code = kubectl(kubeconfig, "get", "crd", "-o", "name")
    expect(code).to eq(0), err
    expect(crds.lines.map(&:strip)).to include("customresourcedefinition.apiextensions.k8s.io/projects.stats-tracker.dev",
                                               "customresourcedefinition.apiextensions.k8s.io/leaves.stats-tracker.dev")
    expect(kube_local("status")).to match([/^running: https:/, anything, 0])
    expect(kube_local("up")[2]).to eq(1) # a second `up` refuses rather than starting another

    _, err, code = kube_local("down")
    expect([code, err]).to eq([0, "kube-local: stopped\n"])
    expect(kube_local("status")).to eq(["not running\n", "", 1])
    expect(kubectl(kubeconfig, "get", "--raw", "/readyz", "--request-timeout=3s")[2]).not_to eq(0)
  end
end
