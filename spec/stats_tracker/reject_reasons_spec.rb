# frozen_string_literal: true

require "json"

# The WIT enum `reject-reason` is the one source of the list; every other copy is checked here
# (the core's own copy by `cargo test`), so adding, renaming or reordering a reason in one place
# only fails until all agree.
RSpec.describe "the reject-reason list" do
  root = RejectReasons::ROOT
  wit = RejectReasons.names

  def camel(name) = name.split("_").map(&:capitalize).join

  it "is read from the WIT world" do
    expect(wit).to include("empty", "no_statistics").and(eq(wit.uniq))
  end

  it "is StatsTracker::ParseError::REASONS, in the same order" do
    expect(StatsTracker::ParseError::REASONS.map(&:to_s)).to eq(wit)
  end

  it "is the RBS type ParseError::reason" do
    rbs = File.read(File.join(root, "sig", "stats_tracker", "error.rbs"))
    alias_body = rbs[/type reason =(?<body>[^\n]*(?:\n\s*\|[^\n]*)*)/, :body] or raise "no `type reason` in error.rbs"
    expect(alias_body.scan(/:(\w+)/).flatten).to eq(wit)
  end

  it "has one exit code each in the command's README, counting up from 10 in WIT order" do
    expect(RejectReasons.documented_exit_codes).to eq(wit.each_with_index.to_h { |name, i| [name, 10 + i] })
  end

  it "maps each WIT case to its Ruby name in the extension" do
    sources = Dir[File.join(root, "ext", "**", "*.rs")].map { |f| File.read(f) }.join
    pairs = sources.scan(/RejectReason::(\w+)\s*=>\s*"(\w+)"/).to_h
    expect(pairs).to eq(wit.to_h { |name| [camel(name), name] })
  end

  it "maps each core reason to the WIT case of the same name in the component" do
    source = File.read(File.join(root, "wasm", "component", "src", "lib.rs"))
    pairs = source.scan(/core::Reject::(\w+)\s*=>\s*R::(\w+)/)
    expect(pairs).to match_array(wit.map { |name| [camel(name), camel(name)] })
  end

  it "is covered by the corpora, but for too_large (a 16 MiB file is made up in parser_spec instead)" do
    seen = [GHCR_FIXTURES, File.join(root, "spec", "fixtures", "ghcr-extra")].flat_map do |dir|
      JSON.parse(File.read(File.join(dir, "expected.json"))).values.filter_map { |want| want["reason"] }
    end
    expect(wit - seen).to eq(["too_large"])
  end
end
