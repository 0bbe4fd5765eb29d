# frozen_string_literal: true

require "stats_tracker/operator/names"

RSpec.describe StatsTracker::Operator::Names do
  def names(packages, project: "fluxcd")
    described_class.leaf_names(project: project, packages: packages)
  end

  it "prefixes the project and maps characters invalid in RFC 1123 labels to dashes" do
    expect(names(%w[source-controller charts/flagger Foo_Bar.baz])).to eq(
      "source-controller" => "fluxcd-source-controller",
      "charts/flagger" => "fluxcd-charts-flagger",
      "Foo_Bar.baz" => "fluxcd-foo-bar-baz"
    )
  end

  it "gives colliding packages distinct names that do not depend on listing order" do
    forward = names(%w[charts/flagger charts-flagger charts_flagger])
    backward = names(%w[charts_flagger charts-flagger charts/flagger])
    expect(forward).to eq(backward)
    expect(forward.values.uniq.size).to eq(3)
    expect(forward.values).to all(satisfy { |n| described_class.valid?(n) })
  end

  it "keeps long names within 63 characters and still distinct" do
    a = ("x" * 80) + "a"
    b = ("x" * 80) + "b"
    result = names([a, b])
    expect(result.values.map(&:length)).to all(be <= 63)
    expect(result[a]).not_to eq(result[b])
    expect(result.values).to all(satisfy { |n| described_class.valid?(n) })
  end

  it "never produces an invalid name, even from punctuation only" do
    expect(described_class.valid?(described_class.sanitize("///"))).to be(true)
    expect(described_class.valid?(described_class.sanitize("-a-"))).to be(true)
  end

  it "derives a stable alternative for a name another Project already controls" do
    alt = described_class.disambiguate("a-b-c", project: "a", package: "b-c")
    expect(alt).not_to eq("a-b-c")
    expect(alt).to eq(described_class.disambiguate("a-b-c", project: "a", package: "b-c"))
  end
end
