# frozen_string_literal: true

require_relative "support/manifests"

# Each worker thread parses in its own wasm instance slot. STATS_TRACKER_POOL_SLOTS left at the
# extension's default (64) reserves address space for 64 instances in a pod that runs CONCURRENCY
# of them; more workers than slots would make parses wait. So every shipped Deployment sets the
# slot count, and to exactly its concurrency.
RSpec.describe "instance pool slots in the operator Deployments" do
  manifests = StatsTracker::Testing::Manifests

  %w[base overlays/dev overlays/production].each do |dir|
    it "equal the worker concurrency in #{dir}" do
      container = manifests.build(dir).find("Deployment", "stats-tracker-operator")
                           .dig("spec", "template", "spec", "containers").first
      env = container["env"].to_h { |e| [e["name"], e["value"]] }
      expect(env).to include("STATS_TRACKER_POOL_SLOTS")
      expect(env["STATS_TRACKER_POOL_SLOTS"]).to eq(env.fetch("CONCURRENCY"))
    end
  end
end
