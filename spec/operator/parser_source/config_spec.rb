# frozen_string_literal: true

require "stats_tracker/operator"

RSpec.describe "PARSER_OCIREPOSITORY" do
  follower = StatsTracker::Operator::ParserSource::Follower

  it "is off unless set, and names the object to follow" do
    expect(StatsTracker::Operator::Config.from_env({}).parser_oci_repository).to be_nil
    expect(StatsTracker::Operator::Config.from_env({ "PARSER_OCIREPOSITORY" => "  " }).parser_oci_repository).to be_nil
    expect(StatsTracker::Operator::Config.from_env({ "PARSER_OCIREPOSITORY" => "ops/parser" }).parser_oci_repository)
      .to eq("ops/parser")
  end

  it "takes NAME in the operator's namespace or NAMESPACE/NAME, and refuses anything else" do
    expect(follower.locate("stats-tracker-parser", default_namespace: "stats-tracker-system"))
      .to eq(%w[stats-tracker-system stats-tracker-parser])
    expect(follower.locate("flux-system/parser", default_namespace: "x")).to eq(%w[flux-system parser])
    expect { follower.locate("ops/", default_namespace: "x") }.to raise_error(ArgumentError, %r{NAME or NAMESPACE/NAME})
    expect { follower.locate("a b", default_namespace: "x") }.to raise_error(ArgumentError)
  end
end
