# frozen_string_literal: true

require "tmpdir"
require_relative "../fixtures/guests/build"

# What a guest may do to the directories it is allowed to write: only those named, within a
# quota of bytes and files per run, and never leave a symlink behind for host code to follow.
RSpec.describe "writable preopens" do
  let(:hostile) { StatsTracker::Wasi::Command.new(GuestBuild.rust("hostile")) }
  let(:mib) { 1024 * 1024 }

  around do |example|
    Dir.mktmpdir do |dir|
      @in = File.join(dir, "in")
      @out = File.join(dir, "out")
      Dir.mkdir(@in)
      Dir.mkdir(@out)
      example.run
    end
  end

  def out_bytes = Dir.glob(File.join(@out, "**", "*")).sum { |f| File.lstat(f).size }

  describe "symlinks" do
    it "cannot create a symlink pointing outside its directory" do
      result = hostile.run(args: %w[symlink ../../../etc/passwd passwd-link], dirs: { "/out" => @out }, writable: true)
      expect(result.exit_code).to eq(1)
      expect(result.stderr).to start_with("denied:")
      expect(Dir.children(@out)).to be_empty
    end

    it "cannot create a symlink pointing inside its directory either" do
      File.write(File.join(@out, "real.txt"), "data")
      result = hostile.run(args: %w[symlink real.txt link], dirs: { "/out" => @out }, writable: true)
      expect(result.exit_code).to eq(1)
      expect(File.symlink?(File.join(@out, "link"))).to be(false)
    end
  end

  describe "the write quota" do
    it "lets a guest write up to write_limit (the control)" do
      result = hostile.run(args: ["fill", "/out/data", mib.to_s], dirs: { "/out" => @out }, writable: true,
                           write_limit: mib)
      expect(result.stdout).to eq("wrote #{mib}\n")
      expect(File.size(File.join(@out, "data"))).to eq(mib)
    end

    it "stops a guest that writes more than write_limit with ResourceLimitError" do
      expect do
        hostile.run(args: ["fill", "/out/data", (2 * mib).to_s], dirs: { "/out" => @out }, writable: true,
                    write_limit: mib)
      end.to raise_error(StatsTracker::ResourceLimitError, /write_limit of #{mib} bytes/o)
      expect(out_bytes).to be <= mib
    end

    it "has a default: a guest cannot fill the disk when no limit is given" do
      limit = StatsTracker::Wasi::Command::DEFAULT_WRITE_LIMIT
      expect do
        hostile.run(args: ["fill", "/out/data", (limit + mib).to_s], dirs: { "/out" => @out }, writable: true)
      end.to raise_error(StatsTracker::ResourceLimitError, /write_limit/)
      expect(out_bytes).to be <= limit
    end

    it "counts growing a file by truncation as writing" do
      expect do
        hostile.run(args: ["truncate", "/out/sparse", (1 << 40).to_s], dirs: { "/out" => @out }, writable: true)
      end.to raise_error(StatsTracker::ResourceLimitError, /write_limit/)
      expect(File.size(File.join(@out, "sparse"))).to eq(0)
    end

    it "stops a guest that creates more than file_limit files" do
      expect do
        hostile.run(args: %w[files /out 50], dirs: { "/out" => @out }, writable: true, file_limit: 10)
      end.to raise_error(StatsTracker::ResourceLimitError, /file_limit of 10 files/)
      expect(Dir.children(@out).size).to eq(10)
    end

    it "counts directories and hard links as files too" do
      expect do
        hostile.run(args: %w[mkdirs /out 5], dirs: { "/out" => @out }, writable: true, file_limit: 3)
      end.to raise_error(StatsTracker::ResourceLimitError, /file_limit of 3 files/)
      expect(Dir.children(@out).size).to eq(3)

      Dir.mktmpdir do |links|
        File.write(File.join(links, "f"), "x")
        expect do
          hostile.run(args: %w[links /out/f 5], dirs: { "/out" => links }, writable: true, file_limit: 3)
        end.to raise_error(StatsTracker::ResourceLimitError, /file_limit of 3 files/)
        expect(Dir.children(links).size).to eq(1 + 3)
      end
    end

    it "has a default file limit" do
      limit = StatsTracker::Wasi::Command::DEFAULT_FILE_LIMIT
      expect do
        hostile.run(args: ["files", "/out", (limit + 50).to_s], dirs: { "/out" => @out }, writable: true)
      end.to raise_error(StatsTracker::ResourceLimitError, /file_limit/)
      expect(Dir.children(@out).size).to eq(limit)
    end

    it "is per run, and rewriting an existing file creates no new one" do
      2.times do
        result = hostile.run(args: ["fill", "/out/data", (mib / 2).to_s], dirs: { "/out" => @out }, writable: true,
                             write_limit: mib, file_limit: 1)
        expect(result.exit_code).to eq(0)
      end
    end

    it "does not count stdout, which output_limit bounds" do
      File.write(File.join(@in, "big.txt"), "y" * (2 * mib))
      result = hostile.run(args: %w[read /in/big.txt], dirs: { "/in" => @in }, write_limit: 1,
                           output_limit: 4 * mib)
      expect(result.stdout.bytesize).to eq((2 * mib) + 1)
    end
  end

  describe "writable: per directory" do
    it "makes only the named directories writable" do
      dirs = { "/in" => @in, "/out" => @out }
      expect(hostile.run(args: %w[write /out/x], dirs: dirs, writable: ["/out"]).stdout).to eq("written\n")
      denied = hostile.run(args: %w[write /in/x], dirs: dirs, writable: ["/out"])
      expect(denied.exit_code).to eq(1)
      expect(File).not_to exist(File.join(@in, "x"))
    end

    it "refuses a writable: path that no dir preopens" do
      expect { hostile.run(args: %w[env], dirs: { "/in" => @in }, writable: ["/nope"]) }
        .to raise_error(ArgumentError, %r{/nope})
    end
  end
end
