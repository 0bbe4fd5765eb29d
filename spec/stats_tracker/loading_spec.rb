# frozen_string_literal: true

require "open3"
require "rbconfig"

RSpec.describe "Loading the gem" do
  lib = File.expand_path("../../lib", __dir__)

  def loaded_after(lib, code)
    script = "#{code}; puts $LOADED_FEATURES.grep(%r{/(net/http|openssl)\\.rb\\z}).size"
    out, err, status = Open3.capture3(RbConfig.ruby, "-I", lib, "-e", script)
    raise "child failed: #{err}" unless status.success?

    Integer(out.lines.last)
  end

  # Start-up time is most of a short program's cost; net/http + openssl are ~70 ms of it.
  it "does not load net/http or openssl until the fetcher is used" do
    expect(loaded_after(lib, 'require "stats_tracker"; StatsTracker::Parser')).to eq(0)
  end

  it "loads the fetcher, and what it needs, on first use" do
    expect(loaded_after(lib, 'require "stats_tracker"; StatsTracker::Fetcher')).to eq(2)
  end
end
