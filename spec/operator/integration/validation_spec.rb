# frozen_string_literal: true

require_relative "../support/operator_harness"

RSpec.describe "operator CRDs on the API server", kube: true do
  include StatsTracker::Testing::OperatorHarness

  before { install_crds }

  def leaf_body(interval)
    { apiVersion: "#{StatsTracker::Testing::OperatorHarness::GROUP}/v1alpha1", kind: "Leaf", metadata: { name: "fast", namespace: namespace },
      spec: { owner: "fluxcd", package: "flagger", interval: interval } }
  end

  it "rejects an interval shorter than a minute, on Projects and on Leafs" do
    expect { apply_project("fast", interval: "1s") }.to raise_error(Kubeclient::HttpError, /at least 1m/)
    expect { api_for("leaves").apply(leaf_body("59s")) }.to raise_error(Kubeclient::HttpError, /at least 1m/)
    expect(apply_project("fine", interval: "1m").dig(:spec, :interval)).to eq("1m")
    expect(api_for("leaves").apply(leaf_body("1h30m")).dig(:spec, :interval)).to eq("1h30m")
  end
end
