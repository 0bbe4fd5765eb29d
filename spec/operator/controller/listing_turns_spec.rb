# frozen_string_literal: true

require_relative "../simulation/scripted_operator"

# A Project edit is answered by one listing read, but it also changes every Leaf's spec, and each
# Leaf then re-reads its page. With the production budget (1 request/s) those reads queue for
# GitHub; the listing, which decides what Leafs exist and whether the edit was handled, must not
# wait behind them. A replica that takes over in the middle of such a wave meets exactly this.
RSpec.describe "GitHub turns for a Project's listing" do
  include_context "scripted operator"

  let(:packages) { Array.new(22) { |i| "pkg-#{i}" } }
  let(:github_rate) { 1 }
  let(:github_burst) { 5 }

  def observed_generation
    server.get("projects", "ns/apps").dig(:status, :observedGeneration)
  end

  def github_reads_since(mark)
    trace.drop(mark).grep(/\Agithub /)
  end

  it "reads the listing for a Project edit ahead of the Leaf page reads waiting in its namespace" do
    start_project(packages)
    expect(observed_generation).to eq(1)

    server.edit_spec("projects", "ns/apps", interval: "59m")
    run_for(10) # the listing, then the first Leafs of the wave the new interval starts
    expect(observed_generation).to eq(2)
    mark = trace.size
    server.edit_spec("projects", "ns/apps", interval: "1h")
    run_for(10)

    reads = github_reads_since(mark)
    listing = reads.each_index.select { |i| reads[i].start_with?("github listing ") }
    # At most one page read that took its token before the edit reached the operator; then the
    # whole listing, while most of the Leafs are still waiting for theirs.
    expect(listing.first).to be <= 1, reads.join("\n")
    expect(listing).to eq((listing.first...(listing.first + 8)).to_a)
    expect(observed_generation).to eq(3)
  end
end
