# frozen_string_literal: true

require_relative "support/manifests"

# glibc's default of up to 8 malloc arenas per core lets the operator's RSS step up and stay
# there (bench/RESULTS.md, the side-by-side soak); every shipped Deployment caps them at two.
RSpec.describe "malloc arenas in the operator Deployments" do
  manifests = StatsTracker::Testing::Manifests

  %w[base overlays/dev overlays/production].each do |dir|
    it "are capped at 2 in #{dir}" do
      container = manifests.build(dir).find("Deployment", "stats-tracker-operator")
                           .dig("spec", "template", "spec", "containers").first
      env = container["env"].to_h { |e| [e["name"], e["value"]] }
      expect(env["MALLOC_ARENA_MAX"]).to eq("2")
    end
  end
end
