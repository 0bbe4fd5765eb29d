# frozen_string_literal: true

require "fileutils"
require "open3"
require "tmpdir"

# The image cache is shared by every checkout and gets a new image directory (about 250 MB) for
# every new gem and a new base (about 130 MB) for every change to the base's package list or
# script. build.sh runs operator/image/prune_cache.sh after each new image; here it runs on a
# cache laid out as the builds leave it, with directories only (no root, no debootstrap needed).
RSpec.describe "operator/image/prune_cache.sh" do
  let(:script) { File.expand_path("../../operator/image/prune_cache.sh", __dir__) }

  let(:cache) { Dir.mktmpdir("image-cache-") }
  let(:out) { File.join(cache, "out") }

  after { FileUtils.rm_rf(cache) }

  # A directory last used `age` hours ago, with a file inside so removal is not of an empty husk.
  def entry(path, age:)
    FileUtils.mkdir_p(path)
    File.write(File.join(path, ".complete"), "x")
    time = Time.now - (age * 3600)
    File.utime(time, time, path)
    path
  end

  def prune(env = {})
    out_text, status = Open3.capture2e(env, script, out, cache)
    raise "prune_cache.sh failed:\n#{out_text}" unless status.success?

    out_text
  end

  it "keeps the most recently used images and bases, and removes the rest" do
    images = (1..6).map { |i| entry(File.join(out, format("%016x", i)), age: i) }
    bases = (1..4).map { |i| entry(File.join(cache, "base-bookworm-#{format("%016x", 0xb0 + i)}"), age: i) }
    bases.each { |b| FileUtils.touch("#{b}.lock") }

    log = prune

    expect(images.select { |d| File.directory?(d) }).to eq(images.first(4))
    expect(bases.select { |d| File.directory?(d) }).to eq(bases.first(2))
    expect(bases.last(2).map { |b| File.exist?("#{b}.lock") }).to eq([false, false])
    expect(log.lines.grep(/pruned/).size).to eq(4)
    # Asked again with nothing beyond the limits, it removes nothing.
    expect(prune).to eq("")
  end

  it "takes the limits from KEEP_IMAGES and KEEP_BASES" do
    images = (1..3).map { |i| entry(File.join(out, format("%016x", i)), age: i) }
    bases = (1..3).map { |i| entry(File.join(cache, "base-bookworm-#{format("%016x", i)}"), age: i) }

    prune("KEEP_IMAGES" => "1", "KEEP_BASES" => "3")

    expect(images.select { |d| File.directory?(d) }).to eq(images.first(1))
    expect(bases.select { |d| File.directory?(d) }).to eq(bases)
  end

  it "leaves a base alone while a build holds its lock" do
    bases = (1..3).map { |i| entry(File.join(cache, "base-bookworm-#{format("%016x", i)}"), age: i) }
    File.open("#{bases.last}.lock", File::CREAT | File::RDWR) do |lock|
      lock.flock(File::LOCK_SH) # what build.sh holds while it copies the base
      prune
      expect(File).to exist(File.join(bases.last, ".complete"))
    end
    prune
    expect(File).not_to exist(bases.last)
  end

  it "removes builds left unfinished for more than 12 hours, not one in progress" do
    stale = entry(File.join(out, ".build.AbC123"), age: 13)
    running = entry(File.join(out, ".build.XyZ789"), age: 0)

    prune

    expect([File.exist?(stale), File.exist?(running)]).to eq([false, true])
  end

  it "removes what older recipes left (the flat layout, the image's cargo target dir) and nothing else of the user's" do
    FileUtils.mkdir_p([File.join(out, "bundle", "rootfs"), File.join(out, "oci", "blobs")])
    %w[.stamp pushed.digest stats-tracker-operator.oci.tar stats_tracker-0.1.0-x86_64-linux.gem notes.txt].each do |f|
      File.write(File.join(out, f), "x")
    end
    FileUtils.mkdir_p(File.join(cache, "cargo-target", "release"))
    File.write(File.join(cache, "cargo-target", "CACHEDIR.TAG"), "Signature: 8a477f597d28d172789f06886806bc55")
    mine = entry(File.join(cache, "my-notes"), age: 100)

    prune

    expect(Dir.children(out)).to eq(["notes.txt"])
    expect(File).not_to exist(File.join(cache, "cargo-target"))
    expect(File).to exist(mine)
  end

  it "keeps the flat-layout names when they are not the old recipe's (no .stamp beside them)" do
    FileUtils.mkdir_p(File.join(out, "oci"))
    File.write(File.join(out, "pushed.digest"), "x")

    prune

    expect(Dir.children(out).sort).to eq(%w[oci pushed.digest])
  end
end
