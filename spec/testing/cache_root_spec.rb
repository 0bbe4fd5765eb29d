# frozen_string_literal: true

require "open3"
require_relative "../../testing/cache_root"

RSpec.describe StatsTracker::Testing::CacheRoot do
  root = File.expand_path("../..", __dir__)
  helper = File.join(root, "testing", "cache_root.sh")

  def shell_path(helper, env)
    out, err, status = Open3.capture3(env, "bash", "-c", ". \"$1\" && stats_tracker_cache_root", "_", helper,
                                      unsetenv_others: true)
    raise "cache_root.sh failed: #{err}" unless status.success?

    out.chomp
  end

  [{ "XDG_CACHE_HOME" => "/x/cache", "HOME" => "/home/u" },
   { "XDG_CACHE_HOME" => "", "HOME" => "/home/u" },
   { "HOME" => "/home/u" }].each do |env|
    it "gives the same root as testing/cache_root.sh for #{env.inspect}" do
      expect(described_class.path(env: env)).to eq(shell_path(helper, env))
    end
  end

  it "follows XDG_CACHE_HOME, else ~/.cache" do
    expect(described_class.path(env: { "XDG_CACHE_HOME" => "/x/cache" })).to eq("/x/cache/stats_tracker")
    expect(described_class.join("kube", "v1", env: { "HOME" => "/home/u" })).to eq("/home/u/.cache/stats_tracker/kube/v1")
  end

  # Files that name the variable for another reason than restating where the cache is.
  allowed = {
    "testing/cache_root.sh" => "the rule, shell form",
    "testing/cache_root.rb" => "the rule, Ruby form",
    "spec/testing/cache_root_spec.rb" => "this guard",
    "ext/stats_tracker_host/src/cache.rs" => "the installed gem's module cache, resolved where testing/ does not exist",
    "spec/operator/module_cache_startup_spec.rb" => "clears the variable for a child process",
    "spec/deploy/image_cache_spec.rb" => "points a child's cache root at a temporary directory"
  }

  it "allows only files that exist, so a moved file cannot keep a stale exemption" do
    expect(allowed.keys.reject { |f| File.file?(File.join(root, f)) }).to be_empty
  end

  it "is the only copy: no other file in the repository restates the rule" do
    files, status = Open3.capture2("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    expect(status).to be_success
    copies = files.split("\0").uniq.reject { |f| f.end_with?(".md") || allowed.key?(f) }.select do |f|
      path = File.join(root, f)
      File.file?(path) && File.binread(path).include?("XDG_CACHE_HOME")
    end
    expect(copies).to be_empty, "restate the cache root rule instead of using testing/cache_root.{sh,rb}: #{copies}"
  end
end
