# frozen_string_literal: true

require "digest"
require "fileutils"
require "open3"
require "tmpdir"
require_relative "support/operator_image"

# Several checkouts share one image cache, and `bin/e2e prepare` (or `rake image:build`) may run in
# one while another publishes the image it built. An image build.sh has printed must stay whole and
# unchanged while an image of another gem is built into the same cache.
RSpec.describe "operator/image/build.sh and its shared cache", image: true do
  image_class = StatsTracker::Testing::OperatorImage

  before(:context) do
    reason = image_class.unavailable_reason
    skip("operator image not checked in this run: #{reason}") if reason
    @out = Dir.mktmpdir("image-cache-")
    @gem_a = image_class.build_gem
    # The same gem with other tar headers: a valid gem of other bytes, as another checkout's would be.
    @gem_b = File.join(Dir.mktmpdir("other-gem-", @out), File.basename(@gem_a))
    Dir.mktmpdir("gem-parts-") do |parts|
      system("tar", "-xf", @gem_a, "-C", parts, exception: true)
      system("tar", "--format=ustar", "--mtime=@1", "-cf", @gem_b, "-C", parts, *Dir.children(parts).sort, exception: true)
    end
  end

  after(:context) { FileUtils.rm_rf(@out) if @out }

  def run_build(gem)
    script = File.join(StatsTracker::Testing::OperatorImage::IMAGE_DIR, "build.sh")
    out, err, status = Open3.capture3({ "IMAGE_DIR" => @out }, script, gem)
    raise "build.sh #{gem} failed:\n#{err.lines.last(20).join}" unless status.success?

    out.lines.last.strip
  end

  # What a reader of the layout relies on: the index and every blob it was built with.
  def snapshot(dir)
    index = Dir.glob(File.join(dir, "**", "index.json")).min or raise "no index.json under #{dir}"
    [Digest::SHA256.file(index).hexdigest, Dir.glob(File.join(File.dirname(index), "blobs", "sha256", "*"))]
  end

  it "keeps an image it printed whole while another gem's image is built" do
    image_a = run_build(@gem_a)
    before = snapshot(image_a)
    broken = []
    building = Thread.new { run_build(@gem_b) }
    while building.alive?
      begin
        broken << snapshot(image_a) unless snapshot(image_a) == before
      rescue StandardError => e
        broken << e.message
      end
      sleep 0.2
    end
    image_b = building.value

    expect(broken).to be_empty, "#{image_a} changed while #{@gem_b} was built: #{broken.first(2)}"
    expect(image_b).not_to eq(image_a)
    expect(snapshot(image_a)).to eq(before)
    expect(File).to exist(File.join(image_a, "oci", "index.json"))
    expect(File).to exist(File.join(image_b, "oci", "index.json"))
    # Asked again, each gem gets its own image back without a rebuild.
    expect(run_build(@gem_a)).to eq(image_a)
  end

  it "builds two requests for one image at once into one complete image" do
    dirs = Array.new(2) { Thread.new { run_build(@gem_a) } }.map(&:value)
    expect(dirs.uniq.size).to eq(1)
    expect(File).to exist(File.join(dirs.first, ".complete"))
    expect(Dir.children(@out).grep(/\A\.build/)).to be_empty
  end
end

# bin/e2e prepare builds the node's pause image into the same shared cache, outside the e2e lock.
RSpec.describe "testing/e2e/pause/build.sh and its shared cache", image: true do
  script = File.expand_path("../../testing/e2e/pause/build.sh", __dir__)

  before(:context) do
    reason = StatsTracker::Testing::OperatorImage.unavailable_reason
    skip("operator image not checked in this run: #{reason}") if reason
  end

  it "gives three prepares building it at once one complete pause image" do
    cache = Dir.mktmpdir("pause-cache-")
    results = Array.new(3) { Thread.new { Open3.capture2e({ "XDG_CACHE_HOME" => cache }, script) } }.map(&:value)
    expect(results.map { |_out, status| status.success? }).to all(be(true)), results.map(&:first).join("\n")
    refs = results.map { |out, _status| out.lines.last.strip }.uniq
    expect(refs.size).to eq(1)
    layout = refs.first.split(":").first
    expect(File).to exist(File.join(layout, "index.json"))
    expect(Dir.children(File.dirname(layout, 2)).grep(/\.tmp\./)).to be_empty
  ensure
    FileUtils.rm_rf(cache) if cache
  end
end
