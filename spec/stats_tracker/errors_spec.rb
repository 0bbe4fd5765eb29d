# frozen_string_literal: true

require "open3"
require "rbconfig"
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

  it "raises the classes the extension found when it loaded, not whatever the constant names now" do
    loaded = StatsTracker::TrapError
    stub_const("StatsTracker::TrapError", Class.new(StandardError))
    command = StatsTracker::Wasi::Command.new(GuestBuild.wat("trap"))
    expect { command.run }.to raise_error(loaded, /divide by zero/)
  end

  it "refuses to load without error.rb's classes instead of raising StandardError later" do
    extension = File.expand_path("../../lib/stats_tracker/#{StatsTracker::ExtensionLoader.library}", __dir__)
    script = "begin; require #{extension.dump}; puts 'loaded'; rescue ScriptError, StandardError => e; " \
             "puts e.class, e.message; exit 3; end"
    # Without Bundler's RUBYOPT: loading the gemspec would define the classes first.
    out, status = Open3.capture2e({ "RUBYOPT" => nil, "RUBYLIB" => nil }, RbConfig.ruby, "-e", script)
    expect(status.exitstatus).to eq(3)
    expect(out.lines.map(&:chomp)).to eq(["LoadError", "StatsTracker::Error is not defined as an exception class: " \
                                                       'require "stats_tracker", which loads lib/stats_tracker/error.rb ' \
                                                       "before the extension"])
  end
end
