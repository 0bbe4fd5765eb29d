# frozen_string_literal: true

require "open3"
require "rbconfig"

# Sequel and a database driver are for programs that record or show history; parsing pays
# nothing for them.
RSpec.describe "Loading the history store" do
  lib = File.expand_path("../../../lib", __dir__)

  def sequel_loaded_after(lib, code)
    script = "#{code}; puts $LOADED_FEATURES.grep(%r{/sequel(/core)?\\.rb\\z}).size"
    out, err, status = Open3.capture3(RbConfig.ruby, "-I", lib, "-e", script)
    raise "child failed: #{err}" unless status.success?

    Integer(out.lines.last)
  end

  it "does not load Sequel with the parser" do
    expect(sequel_loaded_after(lib, 'require "stats_tracker"; StatsTracker::Parser.new')).to eq(0)
  end

  it "loads StatsTracker::History, and Sequel, on first use" do
    expect(sequel_loaded_after(lib, 'require "stats_tracker"; StatsTracker::History.method(:open)')).to be >= 1
  end

  it "does not load Sequel for the CLI's parse and --help" do
    expect(sequel_loaded_after(lib,
                               'require "stringio"; require "stats_tracker/cli"; StatsTracker::CLI.start(["--help"], stdout: StringIO.new)'))
      .to eq(0)
  end
end
