# frozen_string_literal: true

require "json"
require "open3"
require "rbconfig"
require "tmpdir"

# The operator's entry point with the compiled-module cache on a volume shaped like the kubelet's
# emptyDir for a pod with an fsGroup: group- and world-writable with the setgid bit (2777). The
# extension rightly refuses such a directory as not private, which silently turned the cache off
# in every Pod. The operator must make a private directory of its own inside the mount, so the
# second start loads the parser from the cache, and say in its log which of the two happened.
RSpec.describe "operator start-up with an emptyDir-shaped module cache" do
  def repo_root = File.expand_path("../..", __dir__)

  around do |example|
    Dir.mktmpdir("module-cache-volume-") do |volume|
      File.chmod(0o2777, volume)
      @volume = volume
      Dir.mktmpdir("operator-home-") do |home|
        @home = home
        example.run
      end
    end
  end

  # No Kubernetes credentials on purpose: the operator loads its parser, then stops at the
  # connection with exit 1, which is all this start-up check needs.
  def start_operator(cache_dir: @volume, trusted: @volume)
    env = { "STATS_TRACKER_CACHE_DIR" => cache_dir, "HOME" => @home, "KUBECONFIG" => nil, "XDG_CACHE_HOME" => nil,
            "LOG_FORMAT" => "json", "STATS_TRACKER_CACHE_TRUSTED_DIR" => trusted }
    out, err, status = Open3.capture3(env, RbConfig.ruby, File.join(repo_root, "operator", "operator.rb"), chdir: repo_root)
    expect(status.exitstatus).to eq(1), "operator should stop at the missing credentials:\n#{out}#{err}"
    (out + err).lines.filter_map { |l| JSON.parse(l) rescue nil } # rubocop:disable Style/RescueModifier
  end

  def record(lines, message) = lines.find { |l| l["msg"] == message }

  it "compiles into a private directory inside the mount on the first start and loads from it on the second" do
    lines = start_operator
    expect(record(lines, "module cache trusts a shared ancestor")).to include("dir" => @volume)
    expect(record(lines, "module cache off")).to be_nil
    first = record(lines, "parser loaded")
    private_dirs = Dir.children(@volume).map { |c| File.join(@volume, c) }
    expect(private_dirs.size).to eq(1), "nothing written to the volume: #{Dir.children(@volume)}"
    expect(File.stat(private_dirs.first).mode & 0o7777).to eq(0o700)
    expect(Dir.glob(File.join(private_dirs.first, "*.bin"))).not_to be_empty
    expect(first).to include("from_cache" => false)

    second = record(start_operator, "parser loaded")
    expect(second).to include("from_cache" => true, "cache_dir" => private_dirs.first)
  end

  # The mount is writable by the whole fsGroup and has no sticky bit: without being told to trust
  # it, the extension must not cache below it, and the operator's log says so in its own format.
  it "logs that the cache is off, and why, when the mount is not named as trusted" do
    lines = start_operator(trusted: nil)
    off = record(lines, "module cache off")
    expect(off).not_to be_nil, "no 'module cache off' line in:\n#{lines.map(&:to_json).join("\n")}"
    expect(off["reason"]).to include(@volume).and include("2777")
    expect(record(lines, "parser loaded")).to include("from_cache" => false, "misses" => 0, "writes" => 0)
    expect(record(start_operator(trusted: nil), "parser loaded")).to include("from_cache" => false)
  end

  it "logs that the cache is off, and why, when no private directory can be made there" do
    not_a_dir = File.join(@volume, "a-file")
    File.write(not_a_dir, "")
    lines = start_operator(cache_dir: File.join(not_a_dir, "cache"))
    off = record(lines, "module cache off")
    expect(off).not_to be_nil, "no 'module cache off' line in:\n#{lines.map(&:to_json).join("\n")}"
    expect(off["reason"]).to include(not_a_dir)
    expect(record(lines, "parser loaded")).to include("from_cache" => false)
  end
end
