# frozen_string_literal: true

require_relative "support/manifests"

# The memory alerts (operator/deploy/monitoring) compare the RSS with the limit the operator
# exports from MEMORY_LIMIT; every shipped Deployment must hand it the container's own limit.
RSpec.describe "the memory limit in the operator Deployments" do
  manifests = StatsTracker::Testing::Manifests

  %w[base overlays/dev overlays/production].each do |dir|
    it "reaches the operator as MEMORY_LIMIT in #{dir}" do
      container = manifests.build(dir).find("Deployment", "stats-tracker-operator")
                           .dig("spec", "template", "spec", "containers").first
      env = container["env"].find { |e| e["name"] == "MEMORY_LIMIT" }
      expect(env&.dig("valueFrom", "resourceFieldRef")).to eq("containerName" => container["name"], "resource" => "limits.memory")
      expect(container.dig("resources", "limits", "memory")).not_to be_nil
    end
  end
end
