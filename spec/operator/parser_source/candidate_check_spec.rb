# frozen_string_literal: true

require "fileutils"
require "tmpdir"
require "stats_tracker/operator"
require "stats_tracker/operator/parser_source/candidate_check"
require_relative "../../fixtures/guests/build"

RSpec.describe StatsTracker::Operator::ParserSource::CandidateCheck do
  let(:world) { StatsTracker::ParserWorld.name }
  let(:metadata) { { "stats-tracker.dev/parser-wit-world": world } }
  let(:bundled) { File.binread(StatsTracker::Parser::BUNDLED_COMPONENT) }
  let(:hostile) { File.binread(GuestBuild.component("hostile_component")) }
  let(:refusal) { StatsTracker::Operator::ParserSource::Refusal }

  def refused_with(reason, message = //)
    raise_error(refusal) { |e| expect([e.reason, e.message]).to match([reason, message]) }
  end

  it "accepts the project's own parser: right world, and it passes the self-test" do
    parser = described_class.new.call(bundled, metadata: metadata)
    page = File.binread(File.join(GHCR_FIXTURES, "package-small-42.html"))
    expect(parser.package(page).total_downloads).to eq(42)
  end

  it "refuses an artifact that says it implements another WIT world, or says nothing, without compiling it" do
    expect { described_class.new.call(bundled, metadata: { "stats-tracker.dev/parser-wit-world": "stats-tracker:ghcr/ghcr-parser@0.2.0" }) }
      .to refused_with("WrongWorld", %r{implements WIT world stats-tracker:ghcr/ghcr-parser@0\.2\.0, this operator needs #{Regexp.escape(world)}})
    expect { described_class.new.call(bundled, metadata: nil) }.to refused_with("WrongWorld", %r{no stats-tracker.dev/parser-wit-world})
  end

  it "refuses a component that does not export the world, whatever its annotation claims" do
    command = File.binread(File.join(File.dirname(StatsTracker::Parser::BUNDLED_COMPONENT), "ghcr_parser_command.wasm"))
    expect { described_class.new.call(command, metadata: metadata) }.to raise_error(refusal) { |e|
      expect(%w[WrongWorld NotLoadable]).to include(e.reason)
      expect(e.message).to match(/component not loadable/)
    }
    expect { described_class.new.call("\0asm garbage".b, metadata: metadata) }.to refused_with("NotLoadable")
  end

  it "refuses a component of the right world that parses the corpus wrongly, naming the first wrong page" do
    expect { described_class.new.call(hostile, metadata: metadata) }
      .to refused_with("SelfTestFailed", /\A\d+ of #{StatsTracker::SelfTest::PAGES.size} self-test pages wrong; first: \S+\.html: expected/)
  end

  it "refuses a component that traps during the self-test" do
    Dir.mktmpdir do |dir|
      FileUtils.cp(File.join(GHCR_FIXTURES, "expected.json"), dir)
      StatsTracker::SelfTest::PAGES.each { |p| File.write(File.join(dir, p), "trap") }
      check = described_class.new(self_test_dir: dir)
      expect { check.call(hostile, metadata: metadata) }.to refused_with("LoadTrapped", /TrapError/)
    end
  end
end
