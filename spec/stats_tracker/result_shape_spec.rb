# frozen_string_literal: true

require "json"

# Ruby and the wasm core each write expected.json's shape: Ruby from the value objects
# (ResultShape), the core on its own (json.rs, printed by the WASI command). They must agree
# on every corpus page, whether or not the corpus's own answers change.
RSpec.describe StatsTracker::ResultShape do
  command_path = File.expand_path("../../lib/stats_tracker/wasm/ghcr_parser_command.wasm", __dir__)
  expected = JSON.parse(File.read(File.join(GHCR_FIXTURES, "expected.json")))

  let(:parser) { StatsTracker::Parser.new }
  let(:parser_command) { StatsTracker::Wasi::Command.new(command_path) }

  expected.each do |name, want|
    kind = want["kind"] == "error" ? want["page"] : want["kind"]
    it "#{name}: the Ruby shape equals the core's JSON" do
      core = parser_command.run(args: ["--kind", kind, "/pages/#{name}"], dirs: { "/pages" => GHCR_FIXTURES })
      ruby = described_class.observe(parser, kind, File.binread(File.join(GHCR_FIXTURES, name)))
      expect(ruby).to eq(JSON.parse(core.stdout))
    end
  end

  it "refuses a kind the parser does not have, before calling it" do
    expect { described_class.parse(parser, "freeze", "<html>") }.to raise_error(ArgumentError, /unknown page kind/)
  end

  it "gives a reject the corpus's shape" do
    expect(described_class.reject(:rate_limited, :listing))
      .to eq("kind" => "error", "reason" => "rate_limited", "page" => "listing")
  end
end
