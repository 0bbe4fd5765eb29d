# frozen_string_literal: true

require "stats_tracker/operator"

RSpec.describe "MEMORY_LIMIT" do
  config = StatsTracker::Operator::Config

  it "takes the container's limit in bytes as the Downward API gives it; unset, empty or 0 is no limit" do
    expect(config.from_env({ "MEMORY_LIMIT" => "536870912" }).memory_limit).to eq(512 * 1024 * 1024)
    expect(config.from_env({}).memory_limit).to be_nil
    expect(config.from_env({ "MEMORY_LIMIT" => " " }).memory_limit).to be_nil
    expect(config.from_env({ "MEMORY_LIMIT" => "0" }).memory_limit).to be_nil
  end

  it "refuses anything but a whole number of bytes with an error naming the variable" do
    ["512Mi", "-1", "1.5e9", "0x10"].each do |bad|
      expect { config.from_env({ "MEMORY_LIMIT" => bad }) }.to raise_error(ArgumentError, /MEMORY_LIMIT .*#{Regexp.escape(bad)}/)
    end
  end
end
