# frozen_string_literal: true

require_relative "support/manifests"

# glibc's default of up to 8 malloc arenas per core lets the operator's RSS step up and stay
# there (bench/RESULTS.md, the side-by-side soak); every shipped Deployment caps them at two.
RSpec.describe "malloc arenas and Ruby heap growth in the operator Deployments" do
  manifests = StatsTracker::Testing::Manifests

  %w[base overlays/dev overlays/production].each do |dir|
    it "are capped at 2 arenas and 10 % heap growth in #{dir}" do
      container = manifests.build(dir).find("Deployment", "stats-tracker-operator")
                           .dig("spec", "template", "spec", "containers").first
      env = container["env"].to_h { |e| [e["name"], e["value"]] }
      expect(env["MALLOC_ARENA_MAX"]).to eq("2")
      # Ruby's heap grows by 10 %, not 80 %, and keeps at most 10 % of its slots free.
      expect(env.values_at("RUBY_GC_HEAP_GROWTH_FACTOR", "RUBY_GC_HEAP_FREE_SLOTS_MAX_RATIO")).to eq(%w[1.1 0.10])
    end
  end
end
