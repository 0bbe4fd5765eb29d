# frozen_string_literal: true

require "json"
require "open3"
require "rbconfig"
require "tmpdir"

# The compiled-artifact cache is observed through StatsTracker::Native.cache_stats in
# fresh processes, each pointed at a private cache dir with STATS_TRACKER_CACHE_DIR.
RSpec.describe "compiled artifact disk cache" do
  wat = '(module (func (export "_start")))'

  around do |example|
    Dir.mktmpdir do |dir|
      @cache = File.join(dir, "modules")
      example.run
    end
  end

  def lib_dir
    File.expand_path("../../lib", __dir__)
  end

  # Runs `code` in a new Ruby process; returns its cache stats after the code ran.
  def in_new_process(code)
    script = <<~RUBY
      require "json"
      require "stats_tracker"
      #{code}
      puts JSON.generate(StatsTracker::Native.cache_stats)
    RUBY
    out, err, status = Open3.capture3({ "STATS_TRACKER_CACHE_DIR" => @cache }, RbConfig.ruby, "-I", lib_dir, "-e", script)
    raise "child failed: #{err}" unless status.success?

    JSON.parse(out.lines.last, symbolize_names: true)
  end

  def entries
    Dir.children(@cache).reject { |f| f.start_with?(".") }.map { |f| File.join(@cache, f) }
  end

  it "lets a second process load the parser component instead of compiling it" do
    parse = %(StatsTracker::Parser.new.package(File.binread(#{File.join(GHCR_FIXTURES, 'package-small-42.html').dump})))
    expect(in_new_process(parse)).to include(misses: 1, hits: 0, writes: 1)
    expect(in_new_process(parse)).to include(misses: 0, hits: 1, writes: 0)
  end

  it "creates the directory 0700 and entries 0600" do
    in_new_process("StatsTracker::Wasi::Command.new(#{wat.dump}).run")
    expect(File.stat(@cache).mode & 0o777).to eq(0o700)
    expect(entries.size).to eq(1)
    expect(File.stat(entries.first).mode & 0o777).to eq(0o600)
  end

  it "recompiles instead of loading a tampered entry" do
    run = "StatsTracker::Wasi::Command.new(#{wat.dump}).run"
    in_new_process(run)
    entry = entries.first
    bytes = File.binread(entry)
    bytes.setbyte(bytes.bytesize / 2, bytes.getbyte(bytes.bytesize / 2) ^ 0xff)
    File.binwrite(entry, bytes)
    expect(in_new_process(run)).to include(hits: 0, rejected: 1, writes: 1)
    expect(in_new_process(run)).to include(hits: 1, rejected: 0)
  end

  it "recompiles instead of loading a truncated entry" do
    run = "StatsTracker::Wasi::Command.new(#{wat.dump}).run"
    in_new_process(run)
    File.truncate(entries.first, File.size(entries.first) / 3)
    expect(in_new_process(run)).to include(hits: 0, rejected: 1, writes: 1)
    expect(in_new_process(run)).to include(hits: 1)
  end

  it "does not use a cache directory other users can write to" do
    FileUtils.mkdir_p(@cache)
    File.chmod(0o777, @cache)
    stats = in_new_process("StatsTracker::Wasi::Command.new(#{wat.dump}).run")
    expect(stats).to include(hits: 0, misses: 0, writes: 0)
    expect(entries).to be_empty
  end

  it "keys entries by engine compatibility and artifact digest, not by file name" do
    in_new_process("StatsTracker::Wasi::Command.new(#{wat.dump}).run")
    name = File.basename(entries.first)
    digest = Digest::SHA256.hexdigest(StatsTracker::Wasi::Command.read(wat).first)
    expect(name).to start_with("module-wasmtime#{StatsTracker.wasmtime_version}-").and include(digest)
  end
end
