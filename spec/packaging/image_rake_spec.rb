# frozen_string_literal: true

require "rake"
require "tmpdir"

# rakelib/image.rake as `rake image:*` loads it: its helper must reach Rake's `sh` (it once raised
# NoMethodError before any script ran). The scripts themselves are exercised by bin/e2e and
# `rake image:smoke`; here build.sh is given a gem that does not exist, so it stops at its own
# first check and the failure must come back as Rake's command error carrying the script's message.
RSpec.describe "rakelib/image.rake" do
  root = File.expand_path("../..", __dir__)

  before(:context) do
    Rake.application = Rake::Application.new
    Object.const_set(:CACHE_HOME, Dir.mktmpdir("image-rake-")) unless defined?(CACHE_HOME)
    load File.join(root, "rakelib", "image.rake")
  end

  it "runs an image script through Rake's sh and reports its failure" do
    missing_gem = File.join(Dir.mktmpdir("no-gem-"), "stats_tracker-0.0.0.gem")
    expect do
      expect { OperatorImage.script("build.sh", missing_gem) }.to raise_error(RuntimeError, /Command failed/)
    end.to output(/no gem|needs root|install (umoci|skopeo)/).to_stderr_from_any_process
  end

  it "defines the build, base and smoke tasks" do
    expect(Rake::Task.tasks.map(&:name)).to include("image:base", "image:build", "image:smoke")
  end
end
