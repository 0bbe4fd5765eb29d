# frozen_string_literal: true

require "stats_tracker/operator"
require "stats_tracker/operator/parser_source/current_parser"
require_relative "../../fixtures/guests/build"

RSpec.describe StatsTracker::Operator::ParserSource::CurrentParser do
  let(:builtin) { StatsTracker::Parser.new }
  # Answers any page with its length as the count: easy to tell from the real parser.
  let(:hostile) { StatsTracker::Parser.new(component: GuestBuild.component("hostile_component")) }
  let(:page) { File.binread(File.join(GHCR_FIXTURES, "package-12k-lowercase.html")) }

  it "starts with the built-in parser, named by the gem version and the component's digest" do
    current = described_class.initial(builtin)
    expect(current.loaded.source).to eq("builtin")
    expect(current.loaded.revision).to eq("stats_tracker #{StatsTracker::VERSION}")
    expect(current.loaded.digest).to eq("sha256:#{Digest::SHA256.file(StatsTracker::Parser::BUNDLED_COMPONENT).hexdigest}")
    expect(current.package(page).total_downloads).to eq(builtin.package(page).total_downloads)
  end

  it "names a file parser by its path and digest" do
    path = GuestBuild.component("hostile_component")
    current = described_class.initial(hostile, component: path)
    expect(current.loaded.to_h).to include(source: "file", revision: path, digest: "sha256:#{Digest::SHA256.file(path).hexdigest}")
  end

  it "lets a call in flight finish on the parser it started with while new calls get the new one" do
    entered = Queue.new
    release = Queue.new
    hostile_parser = hostile
    # The old parser, held at the door of its call until the swap has happened.
    gated = Object.new
    gated.define_singleton_method(:package) do |html|
      entered << true
      release.pop
      hostile_parser.package(html)
    end
    current = described_class.new(gated, source: "test", revision: "old", digest: "sha256:old")
    in_flight = Thread.new { current.package(page) }
    entered.pop
    previous = current.swap(builtin, source: "test", revision: "new", digest: "sha256:new")
    release << true

    expect(in_flight.value.total_downloads).to eq(page.bytesize)
    expect(current.package(page).total_downloads).to eq(builtin.package(page).total_downloads)
    expect(previous.revision).to eq("old")
    expect(current.loaded.revision).to eq("new")
  end
end
