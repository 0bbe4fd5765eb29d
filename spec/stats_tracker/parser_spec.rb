# frozen_string_literal: true

require "json"
require "tmpdir"

RSpec.describe StatsTracker::Parser do
  subject(:parser) { described_class.new }

  def observed(parser, page, html) = StatsTracker::ResultShape.observe(parser, page, html)

  # Every case of a corpus directory's expected.json, compared exactly.
  def self.corpus_examples(dir)
    expected = JSON.parse(File.read(File.join(dir, "expected.json")))

    it "covers every fixture file" do
      files = Dir.children(dir).reject { |f| %w[README.md expected.json].include?(f) }
      expect(expected.keys).to match_array(files)
    end

    expected.each do |name, want|
      page = (want["kind"] == "error" ? want["page"] : want["kind"]).to_sym
      it "#{name}: #{page} gives exactly the expected result" do
        expect(observed(parser, page, File.binread(File.join(dir, name)))).to eq(want)
      end
    end
  end

  describe("the project's corpus") { corpus_examples(GHCR_FIXTURES) }
  describe("the hand-written extra cases") { corpus_examples(File.expand_path("../fixtures/ghcr-extra", __dir__)) }
  AcceptanceCorpus.when_present { |dir| describe("the acceptance set in #{dir}") { corpus_examples(dir) } }

  describe "value objects" do
    let(:stats) { parser.package(File.binread(File.join(GHCR_FIXTURES, "package-small-42.html"))) }

    it "are typed and frozen" do
      expect(stats).to be_a(StatsTracker::PackageStats).and be_frozen
      expect(stats.total_downloads).to eq(42)
      expect(stats.last_30_days).to all(be_a(StatsTracker::DailyCount).and(be_frozen))
      expect(stats.last_30_days.first.date).to be_a(Date)
      expect(stats.last_30_days).to be_frozen
      expect { stats.last_30_days << nil }.to raise_error(FrozenError)
    end

    it "compare by value" do
      html = File.binread(File.join(GHCR_FIXTURES, "package-small-42.html"))
      expect(parser.package(html)).to eq(stats)
    end

    it "build listings of frozen ListedPackage" do
      listing = parser.listing(File.binread(File.join(GHCR_FIXTURES, "listing-fluxcd-page1.html")))
      expect(listing).to be_a(StatsTracker::Listing).and be_frozen
      expect(listing.packages).to all(be_a(StatsTracker::ListedPackage))
      expect(listing.packages.map(&:name)).to include("charts/flagger")
    end
  end

  describe "rejects" do
    it "raise ParseError whose reason is a Symbol from ParseError::REASONS" do
      html = File.binread(File.join(GHCR_FIXTURES, "reject-rate-limited.html"))
      expect { parser.package(html) }.to raise_error(StatsTracker::ParseError) { |e|
        expect(e.reason).to eq(:rate_limited)
        expect(StatsTracker::ParseError::REASONS).to include(e.reason)
      }
    end

    it "refuse input above the guest's max_input_bytes as :too_large without running it" do
      html = "<html>#{'a' * parser.max_input_bytes}</html>"
      expect { parser.package(html) }.to raise_error(StatsTracker::ParseError) { |e| expect(e.reason).to eq(:too_large) }
    end

    it "accept invalid UTF-8 as bytes (a reject, not a crash)" do
      expect { parser.package("\xff\xfe<html>\xc3".b) }.to raise_error(StatsTracker::ParseError)
    end
  end

  describe "arguments" do
    it "rejects non-String input with TypeError" do
      # Under RBS_TEST=1 the signature check (RBS::Test::Tester::TypeError) fires first.
      expect { parser.package(nil) }.to raise_error(Exception) { |e| expect(e.class.name).to end_with("TypeError") }
    end

    it "rejects nonsensical limits with ArgumentError" do
      expect { described_class.new(timeout: 0) }.to raise_error(ArgumentError)
      expect { described_class.new(memory_limit: -1) }.to raise_error(ArgumentError)
    end
  end

  describe "a replacement component" do
    it "loads when its SHA-256 matches" do
      digest = Digest::SHA256.file(described_class::BUNDLED_COMPONENT).hexdigest
      other = described_class.new(component: described_class::BUNDLED_COMPONENT, sha256: digest)
      expect(other.package(File.binread(File.join(GHCR_FIXTURES, "package-zero-downloads.html"))).total_downloads).to eq(0)
    end

    it "is refused with CompileError when its SHA-256 does not match" do
      expect { described_class.new(component: described_class::BUNDLED_COMPONENT, sha256: "0" * 64) }
        .to raise_error(StatsTracker::CompileError, /SHA-256/)
    end

    it "raises CompileError for bytes that are not a component of the ghcr-parser world" do
      Dir.mktmpdir do |dir|
        garbage = File.join(dir, "garbage.wasm")
        File.binwrite(garbage, "\0asm\x01\0\0\0garbage")
        expect { described_class.new(component: garbage) }.to raise_error(StatsTracker::CompileError)
        command = File.expand_path("../../lib/stats_tracker/wasm/ghcr_parser_command.wasm", __dir__)
        expect { described_class.new(component: command) }.to raise_error(StatsTracker::CompileError)
      end
    end
  end
end
