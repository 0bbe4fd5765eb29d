# frozen_string_literal: true

# The harness must take the operator's real CRDs (owned by the operator, operator/deploy/crds) the way
# the operator specs and the demo install them: a kustomize directory, server-side applied.
RSpec.describe "The operator's CRDs on the test cluster", kube: true do
  let(:crds_dir) { File.expand_path("../../operator/deploy/crds", __dir__) }

  it "install from their kustomize directory and become Established and served" do
    applied = kube.apply_yaml(crds_dir)

    names = applied.select { |o| o["kind"] == "CustomResourceDefinition" }.map { |o| o.dig("metadata", "name") }
    expect(names).to contain_exactly("projects.stats-tracker.dev", "leaves.stats-tracker.dev")
    names.each do |name|
      conditions = kube.wait_for_crd(name).dig("status", "conditions").to_h { |c| [c["type"], c["status"]] }
      expect(conditions["Established"]).to eq("True")
    end
    served = kube.connection.get("/apis/stats-tracker.dev/v1alpha1").json["resources"].map { |r| r["name"] }
    expect(served).to include("projects", "leaves", "projects/status", "leaves/status")
  end
end
