# frozen_string_literal: true

require "json"

RSpec.describe "one Parser shared by many threads" do
  expected = JSON.parse(File.read(File.join(GHCR_FIXTURES, "expected.json")))
  packages = expected.select { |_, want| want["kind"] == "package" }

  it "gives every thread the right answer for its own page" do
    parser = StatsTracker::Parser.new
    threads = packages.keys.each_with_index.map do |name, i|
      html = File.binread(File.join(GHCR_FIXTURES, name))
      Thread.new do
        # Each thread parses its page several times, interleaving with the others.
        Array.new(3 + (i % 3)) { parser.package(html).to_h }.uniq
      end
    end
    results = packages.keys.zip(threads.map(&:value)).to_h
    results.each do |name, answers|
      expect(answers).to eq([packages.fetch(name)]), "wrong or unstable answer for #{name}"
    end
  end

  it "keeps the WASI command runner independent per thread" do
    command = StatsTracker::Wasi::Command.new(File.expand_path("../../lib/stats_tracker/wasm/ghcr_parser_command.wasm", __dir__))
    names = packages.keys.first(6)
    outputs = names.map do |name|
      Thread.new { command.run(args: ["/p/#{name}"], dirs: { "/p" => GHCR_FIXTURES }).stdout }
    end.map { |t| JSON.parse(t.value) }
    expect(outputs).to eq(names.map { |n| packages.fetch(n) })
  end
end
