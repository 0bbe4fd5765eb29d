# frozen_string_literal: true

require "stats_tracker/operator"
require "stats_tracker/operator/parser_source/reparse"

RSpec.describe StatsTracker::Operator::ParserSource::Reparse do
  let(:queue) { StatsTracker::Operator::Controller::WorkQueue.new }

  def leaf(name, status, reason)
    { metadata: { namespace: "ns", name: name },
      status: { conditions: [{ type: "Ready", status: status, reason: reason }] } }
  end

  it "queues at once exactly the Leafs whose last read the parser rejected, even while they back off" do
    failed = leaf("a", "False", "ParseFailed")
    key = StatsTracker::Operator::Controller::ObjectKey.for(:leaf, failed)
    queue.add_rate_limited(key, at_least: 600) # a long backoff after earlier failures
    leaves = [failed, leaf("b", "True", "Succeeded"), leaf("c", "False", "RateLimited"), leaf("d", "False", "NotFound"),
              { metadata: { namespace: "ns", name: "e" }, status: { observedGeneration: -1 } }]

    queued = described_class.call(leaves: leaves, queue: queue)

    expect(queued.map(&:name)).to eq(["a"])
    expect(queue.get(timeout: 0)).to eq(key)
    expect(queue.get(timeout: 0)).to be_nil
  end
end
