# frozen_string_literal: true

require_relative "../support/operator_harness"

RSpec.describe StatsTracker::Operator::Controller::LeaderElection, kube: true do
  include StatsTracker::Testing::OperatorHarness

  let(:log) { StatsTracker::Operator::Log.new(io: StringIO.new) }

  def candidate(identity, stop = StatsTracker::Operator::Controller::StopSignal.new)
    described_class.new(api: api_for("leases"), namespace: namespace, name: "election", identity: identity,
                        logger: log, stop: stop, lease_duration: 30, renew_deadline: 3, retry_period: 0.2)
  end

  def holder
    api_for("leases").get("election", namespace)&.dig(:spec, :holderIdentity)
  end

  it "lets exactly one of two racing candidates win, and hands over at once on release" do
    a = candidate("a")
    b_stop = StatsTracker::Operator::Controller::StopSignal.new
    b = candidate("b", b_stop)
    results = [Thread.new { a.acquire }, Thread.new { b.acquire }]
    winner = wait_for("a leader") { [a, b].find(&:leader?) }
    loser = ([a, b] - [winner]).first
    expect(holder).to eq(winner.identity)
    expect(loser).not_to be_leader

    # The lease is 30 s long: only the explicit release lets the other take it this soon.
    winner.release
    wait_for("the other candidate to take over") { loser.leader? }
    expect(holder).to eq(loser.identity)
    expect(api_for("leases").get("election", namespace).dig(:spec, :leaseTransitions)).to eq(1)
    b_stop.stop!
    results.each { |t| t.join(5) }
  end

  it "reports the lease lost when renewal keeps failing past the renew deadline" do
    a = candidate("a")
    expect(a.acquire).to be(true)
    # Someone else takes the lease (an operator with a skewed clock, an admin): renewals now fail.
    lease = api_for("leases").get("election", namespace)
    api_for("leases").update(lease.merge(spec: lease[:spec].merge(holderIdentity: "intruder", renewTime: Time.now.utc.strftime("%Y-%m-%dT%H:%M:%S.%6NZ"))))
    expect(a.hold).to eq(:lost)
    expect(a).not_to be_leader
    expect(holder).to eq("intruder")
  end
end
