# frozen_string_literal: true

require "json"
require "tmpdir"
require_relative "../fixtures/ghcr_corpus"

# The committed corpus is the generator's output, nothing more or less, and it has what the
# parser, the fetcher, the benchmarks and the operator demo need.
RSpec.describe GhcrCorpus do
  expected = JSON.parse(File.read(File.join(GHCR_FIXTURES, "expected.json")))
  page_of = ->(want) { want["kind"] == "error" ? want["page"] : want["kind"] }

  it "is exactly what the generator writes (regenerate with `bundle exec rake fixtures:ghcr`)" do
    fresh = described_class.files
    committed = Dir.children(described_class::DIR).to_h { |name| [name, File.binread(File.join(described_class::DIR, name))] }
    expect(committed.keys).to match_array(fresh.keys)
    expect(fresh.reject { |name, bytes| committed[name] == bytes.b }.keys).to be_empty
  end

  it "writes the corpus into a directory (what `rake fixtures:ghcr` does), dropping files it no longer makes" do
    Dir.mktmpdir do |dir|
      File.write(File.join(dir, "package-retired.html"), "old")
      described_class.write(dir)
      expect(Dir.children(dir)).to match_array(described_class.files.keys)
      expect(File.binread(File.join(dir, "expected.json"))).to eq(File.binread(File.join(GHCR_FIXTURES, "expected.json")))
    end
  end

  it "comes out the same on every run" do
    expect(described_class.files).to eq(described_class.files)
  end

  it "has every page type, and both an org's and a user's listing and an empty one" do
    kinds = expected.values.map { |want| want["kind"] }.uniq
    expect(kinds).to contain_exactly("package", "versions", "listing", "error")
    listings = expected.select { |_, want| want["kind"] == "listing" }
    expect(listings.values.map { |l| l["packages"].size }).to include(0)
    expect(listings.keys.map { |name| File.binread(File.join(GHCR_FIXTURES, name)) })
      .to include(a_string_including("/users/jdoe/packages/container/package/"))
    expect(expected.values.map(&page_of)).to include("package", "versions", "listing")
  end

  it "pages the demo organisation's listing over three pages" do
    pages = %w[listing-fluxcd-page1.html listing-fluxcd-page2.html listing-fluxcd-page3.html].map { |n| expected.fetch(n) }
    expect(pages.map { |p| p["next_page"] }).to eq([2, 3, nil])
    expect(pages.sum { |p| p["packages"].size }).to be_between(15, 30)
  end

  it "mixes both markup eras and has real-sized package pages up to the benchmarks' largest" do
    pages = expected.select { |_, want| want["kind"] == "package" }.keys.map { |n| File.binread(File.join(GHCR_FIXTURES, n)) }
    expect(pages).to include(a_string_including('class="my-3"'), a_string_including('class="tmp-my-3"'))
    sizes = pages.map(&:bytesize)
    expect(sizes.count { |size| size.between?(200_000, 380_000) }).to be >= 3
    expect(File.size(File.join(GHCR_FIXTURES, "package-above-int32-largest.html"))).to eq(sizes.max)
  end
end
