# frozen_string_literal: true

require "open3"
require "rbconfig"

# `ruby operator/operator.rb` refuses a malformed STATS_TRACKER_DATABASE_URL at start, with
# one line and exit 2, before it contacts anything.
RSpec.describe "operator with a malformed STATS_TRACKER_DATABASE_URL" do
  operator = File.expand_path("../../operator/operator.rb", __dir__)

  it "exits 2 with one configuration line" do
    _out, err, status = Open3.capture3({ "STATS_TRACKER_DATABASE_URL" => "mysql://user:pw@db/x", "KUBECONFIG" => "/nonexistent" },
                                       RbConfig.ruby, operator)

    expect(status.exitstatus).to eq(2)
    expect(err.lines).to eq(["stats-tracker operator: invalid configuration: STATS_TRACKER_DATABASE_URL must start " \
                             "with sqlite:// or postgres://, got \"mysql://user:***@db/x\"\n"])
  end
end
