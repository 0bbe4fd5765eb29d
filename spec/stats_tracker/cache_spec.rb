# frozen_string_literal: true

require "json"
require "open3"
require "rbconfig"
require "etc"
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

  # Runs `code` in a new Ruby process; returns its cache stats after the code ran. A child
  # still running after a minute (blocked on something it opened) is killed and fails.
  def in_new_process(code, env: {})
    script = <<~RUBY
      require "json"
      require "stats_tracker"
      #{code}
      puts JSON.generate(StatsTracker::Native.cache_stats)
    RUBY
    out, err, status = Open3.capture3({ "STATS_TRACKER_CACHE_DIR" => @cache }.merge(env), "timeout", "--signal=KILL", "60",
                                      RbConfig.ruby, "-I", lib_dir, "-e", script)
    raise "child failed (#{status}): #{err}" unless status.success?

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

  describe "against someone who can reach the directory" do
    let(:run) { "StatsTracker::Wasi::Command.new(#{wat.dump}).run" }

    it "does not follow an entry that is a symlink, even to a valid entry" do
      in_new_process(run)
      entry = entries.first
      Dir.mktmpdir do |elsewhere|
        moved = File.join(elsewhere, "planted.bin")
        FileUtils.mv(entry, moved)
        File.symlink(moved, entry)
        expect(in_new_process(run)).to include(hits: 0, rejected: 1, writes: 1)
        expect(File.symlink?(entry)).to be(false)
      end
    end

    it "does not block on a FIFO planted under an entry's name" do
      in_new_process(run)
      entry = entries.first
      File.delete(entry)
      File.mkfifo(entry)
      expect(in_new_process(run)).to include(hits: 0, rejected: 1, writes: 1)
      expect(File.file?(entry)).to be(true)
    end

    # A guest given such a preopen could plant an entry, with a matching checksum, that the
    # next process would map as native code.
    it "refuses a preopen that is, contains or lies inside the cache directory" do
      in_new_process(run)
      inside = File.join(@cache, "sub")
      Dir.mkdir(inside)
      hosts = [File.dirname(@cache), @cache, File.join(@cache, "..", File.basename(@cache)), inside]
      outcomes = hosts.map do |host|
        out, err, = Open3.capture3({ "STATS_TRACKER_CACHE_DIR" => @cache }, RbConfig.ruby, "-I", lib_dir, "-e", <<~RUBY)
          require "stats_tracker"
          begin
            StatsTracker::Wasi::Command.new(#{wat.dump}).run(dirs: { "/h" => #{host.dump} }, writable: true)
            puts "ran"
          rescue ArgumentError => e
            puts e.message
          end
        RUBY
        out + err
      end
      expect(outcomes).to all(match(/module cache/))
      # The control: a directory beside the cache is still fine.
      beside = File.join(File.dirname(@cache), "beside")
      Dir.mkdir(beside)
      expect(in_new_process("#{run.delete_suffix('.run')}.run(dirs: { '/h' => #{beside.dump} }, writable: true)")).to include(hits: 1)
    end

    it "says why it is off when the directory is not private" do
      FileUtils.mkdir_p(@cache)
      File.chmod(0o777, @cache)
      out, = Open3.capture3({ "STATS_TRACKER_CACHE_DIR" => @cache }, RbConfig.ruby, "-I", lib_dir, "-e", <<~RUBY)
        require "stats_tracker"
        StatsTracker::Wasi::Command.new(#{wat.dump}).run
        puts StatsTracker::Native.cache_off_reason
      RUBY
      expect(out).to include(@cache).and include("0777").and include("others may write")
    end
  end

  # Whoever can rename an ancestor can swap the cache directory for one of theirs between two
  # processes. The directory must be reached only through directories no other user can change.
  describe "ancestors of the directory" do
    let(:run) { "StatsTracker::Wasi::Command.new(#{wat.dump}).run" }

    # -> [cache stats, stderr] of a fresh process using `cache`.
    def with_cache(cache, env: {})
      out, err, status = Open3.capture3({ "STATS_TRACKER_CACHE_DIR" => cache }.merge(env), "timeout", "--signal=KILL", "60",
                                        RbConfig.ruby, "-I", lib_dir, "-e", <<~RUBY)
                                          require "json"
                                          require "stats_tracker"
                                          #{run}
                                          puts JSON.generate(StatsTracker::Native.cache_stats)
                                        RUBY
      raise "child failed (#{status}): #{err}" unless status.success?

      [JSON.parse(out.lines.last, symbolize_names: true), err]
    end

    # Runs the block in a child process that has dropped to `nobody`: the other user.
    def as_nobody(&block)
      nobody = Etc.getpwnam("nobody")
      pid = fork do
        Process::GID.change_privilege(nobody.gid)
        Process::UID.change_privilege(nobody.uid)
        block.call
        exit!(0)
      rescue StandardError => e
        warn e.full_message
        exit!(1)
      end
      Process.wait(pid)
      expect($?).to be_success
      nobody.uid
    end

    # A directory in this example's temporary one (root's, made enterable so `nobody` can reach it).
    def shared_parent(mode)
      File.chmod(0o755, File.dirname(@cache))
      parent = File.join(File.dirname(@cache), "shared-#{mode.to_s(8)}")
      Dir.mkdir(parent)
      File.chmod(mode, parent)
      parent
    end

    it "turns the cache off under a parent others may write, and says why on stderr" do
      parent = shared_parent(0o777)
      stats, err = with_cache(File.join(parent, "modules"))
      expect(stats).to include(hits: 0, misses: 0, writes: 0)
      expect(Dir.children(parent)).to eq(["modules"]) # made, then refused: nothing written into it
      expect(Dir.children(File.join(parent, "modules"))).to be_empty
      expect(err).to include("module cache off").and include(parent).and include("0777").and include("sticky")
      expect(err.scan("module cache off").size).to eq(1)
    end

    it "uses a cache under a parent with the sticky bit, as /tmp has" do
      cache = File.join(shared_parent(0o1777), "modules")
      expect(with_cache(cache).first).to include(misses: 1, writes: 1)
      stats, err = with_cache(cache)
      expect(stats).to include(hits: 1)
      expect(err).not_to include("module cache off")
    end

    it "uses a cache under the one group-writable parent STATS_TRACKER_CACHE_TRUSTED_DIR names, only that one" do
      parent = shared_parent(0o2777)
      cache = File.join(parent, "modules")
      trusted = { "STATS_TRACKER_CACHE_TRUSTED_DIR" => parent }
      expect(with_cache(cache, env: trusted).first).to include(misses: 1, writes: 1)
      expect(with_cache(cache, env: trusted).first).to include(hits: 1)
      elsewhere = { "STATS_TRACKER_CACHE_TRUSTED_DIR" => File.dirname(parent) }
      stats, err = with_cache(cache, env: elsewhere)
      expect(stats).to include(hits: 0, misses: 0)
      expect(err).to include("#{parent} has mode 2777")
    end

    context "against another user (needs root to be one)" do
      before { skip "runs as root only" unless Process.euid.zero? }

      it "refuses a cache directory that another user made first, under a sticky parent" do
        parent = shared_parent(0o1777)
        cache = File.join(parent, "modules")
        uid = as_nobody { Dir.mkdir(cache, 0o700) }
        stats, err = with_cache(cache)
        expect(stats).to include(hits: 0, misses: 0, writes: 0)
        expect(err).to include("belongs to uid #{uid}")
      end

      it "refuses a cache inside a directory another user owns, even one made by us" do
        parent = shared_parent(0o1777)
        theirs = File.join(parent, "theirs")
        uid = as_nobody { Dir.mkdir(theirs, 0o755) }
        stats, err = with_cache(File.join(theirs, "modules"))
        expect(stats).to include(hits: 0, misses: 0, writes: 0)
        expect(err).to include("ancestor #{theirs} belongs to uid #{uid}")
      end
    end
  end

  describe "size" do
    let(:run) { "StatsTracker::Wasi::Command.new(#{wat.dump}).run" }

    def plant(name, bytes:, age:)
      path = File.join(@cache, name)
      File.binwrite(path, "x" * bytes)
      File.utime(Time.now - age, Time.now - age, path)
      path
    end

    it "removes temporary files that a crashed writer left behind, and only stale ones" do
      FileUtils.mkdir_p(@cache, mode: 0o700)
      stale = plant(".tmp-999-ThreadId(1)-module-x.bin", bytes: 10, age: 3600)
      fresh = plant(".tmp-998-ThreadId(1)-module-y.bin", bytes: 10, age: 1)
      expect(in_new_process(run)).to include(writes: 1)
      expect(File).not_to exist(stale)
      expect(File).to exist(fresh)
    end

    it "keeps the directory under STATS_TRACKER_CACHE_MAX_BYTES by removing the oldest entries first" do
      FileUtils.mkdir_p(@cache, mode: 0o700)
      mib = 1024 * 1024
      oldest = plant("module-wasmtime0-0-oldest.bin", bytes: mib, age: 3 * 3600)
      older = plant("component-wasmtime0-0-older.bin", bytes: mib, age: 2 * 3600)
      old = plant("module-wasmtime0-0-old.bin", bytes: mib, age: 3600)
      other = plant("notes.txt", bytes: 2 * mib, age: 4 * 3600)
      stats = in_new_process(run, env: { "STATS_TRACKER_CACHE_MAX_BYTES" => (2.5 * mib).to_i.to_s })
      expect(stats).to include(writes: 1, pruned: 1)
      expect([oldest, older, old, other].map { |f| File.exist?(f) }).to eq([false, true, true, true])
      expect(entries.size).to eq(4) # the new entry was kept
    end

    it "counts a hit as a use, so a long-lived entry outlives newer but unused ones" do
      in_new_process(run)
      used = entries.first
      File.utime(Time.now - (5 * 3600), Time.now - (5 * 3600), used)
      mib = 1024 * 1024
      older = plant("module-wasmtime0-0-older.bin", bytes: mib, age: 3 * 3600)
      newer = plant("module-wasmtime0-0-newer.bin", bytes: mib, age: 2 * 3600)
      other = "StatsTracker::Wasi::Command.new('(module (func (export \"_start\")) (func (export \"g\")))')"
      stats = in_new_process("#{run}; #{other}", env: { "STATS_TRACKER_CACHE_MAX_BYTES" => (1.5 * mib).to_i.to_s })
      expect(stats).to include(hits: 1, writes: 1, pruned: 1)
      expect([used, older, newer].map { |f| File.exist?(f) }).to eq([true, false, true])
    end
  end
end
