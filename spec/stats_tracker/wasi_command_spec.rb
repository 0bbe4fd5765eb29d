# frozen_string_literal: true

require "json"
require "tmpdir"
require_relative "../fixtures/guests/build"

RSpec.describe StatsTracker::Wasi::Command do
  command_path = File.expand_path("../../lib/stats_tracker/wasm/ghcr_parser_command.wasm", __dir__)
  expected = JSON.parse(File.read(File.join(GHCR_FIXTURES, "expected.json")))

  let(:parser_command) { described_class.new(command_path) }

  # Every case of a corpus directory, run through the command with the page in a read-only
  # preopen; a reject exits with its reason's code (README of wasm/command).
  def self.corpus_examples(dir)
    JSON.parse(File.read(File.join(dir, "expected.json"))).each do |name, want|
      page = want["kind"] == "error" ? want["page"] : want["kind"]
      it "#{name}: prints exactly the expected JSON (file in a read-only preopen)" do
        result = parser_command.run(args: ["--kind", page, "/pages/#{name}"], dirs: { "/pages" => dir })
        expect(JSON.parse(result.stdout)).to eq(want)
        expect(result.exit_code).to eq(want["kind"] == "error" ? RejectReasons.exit_code(want["reason"]) : 0)
      end
    end
  end

  AcceptanceCorpus.when_present do |dir|
    describe("the bundled p1 parser command over the acceptance set in #{dir}") { corpus_examples(dir) }
  end

  describe "the bundled p1 parser command over the project's corpus" do
    corpus_examples(GHCR_FIXTURES)

    it "reads the page from stdin when no path is given" do
      html = File.binread(File.join(GHCR_FIXTURES, "package-987-no-chart-2023.html"))
      result = parser_command.run(args: ["--kind", "package"], stdin: html)
      expect(result).to be_success
      expect(JSON.parse(result.stdout)).to eq(expected.fetch("package-987-no-chart-2023.html"))
    end

    it "reports a usage error as exit code 2, not an exception" do
      result = parser_command.run(args: ["--kind", "nonsense"])
      expect(result.exit_code).to eq(2)
      expect(result).not_to be_success
    end
  end

  describe "results" do
    let(:echo) { described_class.new(GuestBuild.rust("hostile")) }

    it "are frozen with binary stdout/stderr" do
      result = echo.run(args: %w[env], env: { "GREETING" => "hello" })
      expect(result).to be_frozen
      expect(result.stdout).to eq("GREETING=hello\n").and be_frozen
      expect(result.stdout.encoding).to eq(Encoding::BINARY)
    end

    it "pass argv after the program name" do
      Dir.mktmpdir do |dir|
        File.write(File.join(dir, "note.txt"), "note")
        result = echo.run(args: ["read", "/d/note.txt"], dirs: { "/d" => dir })
        expect(result.stdout).to eq("note\n")
      end
    end
  end

  describe "inputs" do
    it "accepts module bytes and WAT text as well as a path" do
      expect(described_class.new(File.binread(command_path)).run(args: ["--kind", "package"], stdin: "").exit_code)
        .to be_between(10, 20)
      expect(described_class.new(GuestBuild.wat("trap"))).to be_a(described_class)
    end

    it "refuses a module without _start, or with imports the sandbox does not provide" do
      expect { described_class.new(GuestBuild.wat("no_start")) }.to raise_error(StatsTracker::CompileError, /_start/)
      expect { described_class.new(GuestBuild.wat("unknown_import")) }.to raise_error(StatsTracker::CompileError, /open_socket/)
    end

    it "raises CompileError for invalid bytes and ArgumentError for a missing preopen dir" do
      expect { described_class.new("\0asm\x01\0\0\0\x01".b) }.to raise_error(StatsTracker::CompileError)
      expect { parser_command.run(dirs: { "/x" => "/nonexistent/dir" }) }.to raise_error(ArgumentError)
    end
  end
end
