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
    api_for("leases").update(lease.merge(spec: lease[:spec].merge(holderIdentity: "intruder",
                                                                  renewTime: Time.now.utc.strftime("%Y-%m-%dT%H:%M:%S.%6NZ"))))
    expect(a.hold).to eq(:lost)
    expect(a).not_to be_leader
    expect(holder).to eq("intruder")
  end

  context "never two leaders at once" do
    let(:lease_duration) { 4 }
    let(:renew_deadline) { 2.5 }

    def elector(identity, api: api_for("leases"), clock: -> { Time.now })
      stop = StatsTracker::Operator::Controller::StopSignal.new
      election = described_class.new(api: api, namespace: namespace, name: "two-leaders", identity: identity,
                                     logger: log, stop: stop, lease_duration: lease_duration,
                                     renew_deadline: renew_deadline, retry_period: 0.3, clock: clock)
      thread = Thread.new { election.hold if election.acquire }
      (@electors ||= []) << [stop, thread]
      election
    end

    # Samples both candidates' view of themselves; returns the moments both said "leader".
    def overlaps_while(candidates, seconds)
      both = []
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
      while Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline
        both << Process.clock_gettime(Process::CLOCK_MONOTONIC) if candidates.all?(&:leader?)
        yield if block_given?
        sleep 0.01
      end
      both
    end

    after do
      Array(@electors).each { |stop, _| stop.stop! }
      Array(@electors).each { |_, thread| thread.join(40) }
      @proxy&.stop
    end

    it "keeps a standby whose clock runs an hour ahead from taking a lease that is being renewed" do
      a = elector("a")
      wait_for("a to lead") { a.leader? }
      b = elector("b", clock: -> { Time.now + 3600 })

      expect(overlaps_while([a, b], 3 * lease_duration)).to be_empty
    end

    it "stops leading before a standby can take over when the API server answers the leader slowly" do
      server = URI(connection.server)
      @proxy = StatsTracker::Testing::DelayingProxy.new(upstream_port: server.port).start
      slow = StatsTracker::Operator::Kube::Connection.new(
        server: "https://127.0.0.1:#{@proxy.port}", ssl_options: connection.ssl_options,
        auth_options: connection.auth_options
      )
      slow_api = StatsTracker::Operator::Kube::ResourceApi.new(
        connection: slow, kind: "Lease", plural: "leases", group: "coordination.k8s.io",
        timeouts: described_class.http_timeouts(renew_deadline)
      )
      a = elector("a", api: slow_api)
      wait_for("a to lead") { a.leader? }
      b = elector("b")

      @proxy.delay = 60 # longer than any timeout: every renewal of a's now hangs
      both = overlaps_while([a, b], 4 * lease_duration)

      expect(both).to be_empty
      expect(b).to be_leader
      expect(a).not_to be_leader
      expect(api_for("leases").get("two-leaders", namespace).dig(:spec, :holderIdentity)).to eq("b")
    end
  end
end
