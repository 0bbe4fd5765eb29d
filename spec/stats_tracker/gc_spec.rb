# frozen_string_literal: true

require "json"
require_relative "../fixtures/guests/build"

RSpec.describe "GC safety" do
  expected = JSON.parse(File.read(File.join(GHCR_FIXTURES, "expected.json")))
  subset = %w[package-small-42.html versions-tagged-page2.html listing-fluxcd-page2.html reject-not-found.html]

  def observed(parser, name, want)
    page = want["kind"] == "error" ? want["page"] : want["kind"]
    result = parser.public_send(page, File.binread(File.join(GHCR_FIXTURES, name)))
    page == "versions" ? { "kind" => "versions", "versions" => result.map(&:to_h) } : result.to_h
  rescue StatsTracker::ParseError => e
    { "kind" => "error", "page" => page, "reason" => e.reason.to_s }
  end

  it "parses correctly under GC.stress" do
    parser = StatsTracker::Parser.new
    results = {}
    begin
      GC.stress = true
      subset.each { |name| results[name] = observed(parser, name, expected.fetch(name)) }
    ensure
      GC.stress = false
    end
    subset.each { |name| expect(results.fetch(name)).to eq(expected.fetch(name)) }
  end

  it "runs WASI commands and raises their errors correctly under GC.stress" do
    hostile = StatsTracker::Wasi::Command.new(GuestBuild.rust("hostile"))
    outcome = nil
    error = nil
    begin
      GC.stress = true
      outcome = hostile.run(args: %w[env], env: { "K" => "v" })
      begin
        hostile.run(args: %w[panic])
      rescue StatsTracker::TrapError => e
        error = e
      end
    ensure
      GC.stress = false
    end
    expect(outcome.stdout).to eq("K=v\n")
    expect(error.message).to include("guest panicked on purpose")
  end

  it "keeps native objects usable across GC.compact between calls" do
    skip "GC.compact unsupported here" unless GC.respond_to?(:compact)
    parser = StatsTracker::Parser.new
    command = StatsTracker::Wasi::Command.new(GuestBuild.rust("hostile"))
    subset.each do |name|
      GC.compact
      expect(observed(parser, name, expected.fetch(name))).to eq(expected.fetch(name))
      GC.compact
      expect(command.run(args: %w[env], env: { "N" => name }).stdout).to eq("N=#{name}\n")
    end
  end

  it "reports compiled code to the GC as malloc'd memory" do
    bytes = File.binread(GuestBuild.rust("hostile"))
    GC.disable # a GC in between would reset the counter
    before = GC.stat(:malloc_increase_bytes)
    StatsTracker::Native::WasiModule.compile(bytes)
    grown = GC.stat(:malloc_increase_bytes) - before
    GC.enable
    # Compiled hostile.wasm is hundreds of KB of machine code, allocated by Rust where
    # Ruby cannot see it; without the report this counter would barely move.
    expect(grown).to be > 100_000
  end
end
