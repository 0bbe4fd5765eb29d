# frozen_string_literal: true

require_relative "../fixtures/guests/build"

RSpec.describe "error mapping" do
  it "puts every error under StatsTracker::Error < StandardError" do
    [StatsTracker::ParseError, StatsTracker::TrapError, StatsTracker::TimeoutError,
     StatsTracker::ResourceLimitError, StatsTracker::CompileError, StatsTracker::Interrupt].each do |klass|
      expect(klass.ancestors).to include(StatsTracker::Error, StandardError)
    end
  end

  it "raises TrapError carrying the wasm backtrace with function names" do
    command = StatsTracker::Wasi::Command.new(GuestBuild.wat("trap"))
    expect { command.run }.to raise_error(StatsTracker::TrapError) { |e|
      expect(e.message).to include("divide by zero")
      expect(e.message).to match(/\$?divide/).and match(/\$?middle/)
    }
  end

  it "includes a Rust guest's panic message from stderr in the TrapError" do
    command = StatsTracker::Wasi::Command.new(GuestBuild.rust("hostile"))
    expect { command.run(args: %w[panic]) }.to raise_error(StatsTracker::TrapError, /guest panicked on purpose/)
  end

  it "reports a non-zero exit as data, not an exception" do
    command = StatsTracker::Wasi::Command.new(GuestBuild.rust("hostile"))
    expect(command.run(args: %w[nonsense]).exit_code).to eq(1)
  end

  it "maps a too-small memory_limit for the parser to ResourceLimitError, and a sane one works" do
    expect { StatsTracker::Parser.new(memory_limit: 1024 * 1024) }
      .to raise_error(StatsTracker::ResourceLimitError, /memory_limit/)
    html = File.binread(File.join(GHCR_FIXTURES, "package-small-42.html"))
    expect(StatsTracker::Parser.new(memory_limit: 32 * 1024 * 1024).package(html).total_downloads).to eq(42)
  end
end
