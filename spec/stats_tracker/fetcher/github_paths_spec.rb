# frozen_string_literal: true

RSpec.describe StatsTracker::Fetcher::GithubPaths do
  it "keeps a hostile package name inside its path segment" do
    expect(described_class.package(owner: "acme", package: "../../x?y=1#z"))
      .to eq("/orgs/acme/packages/container/package/..%2F..%2Fx%3Fy%3D1%23z")
  end

  it "refuses unknown owner types and empty names" do
    expect { described_class.listing(owner: "acme", owner_type: :team) }.to raise_error(ArgumentError, /owner_type/)
    expect { described_class.package(owner: "acme", package: "") }.to raise_error(ArgumentError, /empty/)
  end

  it "refuses a page number that is not an integer" do
    expect { described_class.listing(owner: "acme", page: "2&x=1") }.to raise_error(ArgumentError)
  end
end
