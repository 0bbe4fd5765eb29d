# frozen_string_literal: true

require "rake"
require "tmpdir"

# rakelib/native.rake as `rake gem:native:*` loads it: the arm64 smoke step must reach Rake's `sh`
# (it once raised NoMethodError after a 78-minute cross build). The smoke script is given a root
# filesystem that does not exist, so it stops at its own first check, and the failure must come
# back as Rake's command error carrying the script's message.
RSpec.describe "rakelib/native.rake" do
  root = File.expand_path("../..", __dir__)

  before(:context) do
    Rake.application = Rake::Application.new
    Object.const_set(:CACHE_HOME, Dir.mktmpdir("native-rake-")) unless defined?(CACHE_HOME)
    load File.join(root, "rakelib", "gem.rake")
    load File.join(root, "rakelib", "native.rake")
  end

  it "runs the arm64 smoke script through Rake's sh and reports its failure" do
    missing_rootfs = File.join(Dir.mktmpdir("no-rootfs-"), "rootfs")
    expect do
      expect { NativeGemTasks.smoke_in(missing_rootfs) }.to raise_error(RuntimeError, /Command failed/)
    end.to output(/no arm64 root filesystem|needs root/).to_stderr_from_any_process
  end

  it "defines the platform gem tasks and the opt-in smoke task" do
    expect(Rake::Task.tasks.map(&:name)).to include("gem:native", "gem:native:x86_64-linux", "gem:native:aarch64-linux",
                                                    "gem:native:smoke")
  end
end
