# frozen_string_literal: true

require "stringio"
require "stats_tracker/operator"

# One renewal, on a hand-driven clock and an in-memory Lease: the steps between its GET and its
# PUT can take longer than the renew deadline (a stalled thread, a slow GET).
RSpec.describe StatsTracker::Operator::Controller::LeaderElection, "a renewal that outlives its deadline" do
  # An in-memory Lease API; `during_get` runs inside each GET, as if the call took that long.
  let(:leases) do
    Class.new do
      attr_reader :puts
      attr_accessor :during_get

      def initialize
        @lease = nil
        @puts = 0
        @during_get = -> {}
      end

      def get(_name, _namespace)
        during_get.call
        @lease && Marshal.load(Marshal.dump(@lease))
      end

      def create(body)
        @lease = body.merge(metadata: body[:metadata].merge(resourceVersion: "1"))
      end

      def update(body)
        @puts += 1
        version = (Integer(@lease.dig(:metadata, :resourceVersion)) + 1).to_s
        @lease = body.merge(metadata: body[:metadata].merge(resourceVersion: version))
      end
    end.new
  end
  let(:now) { [100.0] }
  let(:stop) { StatsTracker::Operator::Controller::StopSignal.new }
  let(:election) do
    described_class.new(api: leases, namespace: "ns", name: "lease", identity: "a", stop: stop,
                        logger: StatsTracker::Operator::Log.new(io: StringIO.new), lease_duration: 15,
                        renew_deadline: 10, retry_period: 2, clock: -> { Time.at(now[0]) }, monotonic: -> { now[0] })
  end

  it "does not write a renewal once its deadline passed during the attempt: that would only delay the next leader" do
    expect(election.acquire).to be(true) # created the Lease
    leases.during_get = -> { now[0] += 30 } # the thread stalls inside the first renewal
    expect(election.hold).to eq(:lost)
    expect(leases.puts).to eq(0)
    expect(election).not_to be_leader
  end
end
