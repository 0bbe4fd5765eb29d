# frozen_string_literal: true

require_relative "world"

# One operator on the simulated clock, API server and GitHub, with the real queue, informers,
# controllers and reconcilers, stepped by hand: for specs that script one interleaving exactly
# (the World's seeded runs pick theirs at random).
RSpec.shared_context "scripted operator" do
  let(:clock) { StatsTracker::Simulation::Clock.new }
  let(:trace) { [] }
  let(:random) { Random.new(5) }
  let(:server) { StatsTracker::Simulation::ApiServer.new(clock: clock, random: random, trace: ->(line) { trace << line }) }
  let(:github) { StatsTracker::Simulation::Github.new(clock: clock, random: random, trace: ->(line) { trace << line }) }
  # The GitHub budget; a spec about turns for it sets the production one.
  let(:github_rate) { 10 }
  let(:github_burst) { 10 }
  let(:operator) do
    StatsTracker::Simulation::OperatorUnderTest.new(server: server, github: github, clock: clock, random: random,
                                                    github_rate: github_rate, github_burst: github_burst)
  end

  # A Project "ns/apps" for GitHub owner "acme" with `packages`, listed into the informers and
  # reconciled for 30 simulated seconds.
  def start_project(packages)
    github.add_owner("acme", packages)
    server.create("projects", { apiVersion: StatsTracker::Simulation::ApiServer::GROUP_VERSION, kind: "Project",
                                metadata: { name: "apps", namespace: "ns" }, spec: { owner: "acme", interval: "1h" } })
    operator.informers.each { |plural, informer| informer.load(*server.list(plural)) }
    run_for(30)
  end

  # What the informers and workers do, on simulated time.
  def run_for(seconds)
    deadline = clock.now + seconds
    while clock.now < deadline
      server.deliver_due.each do |plural, kind, payload|
        kind == :list ? operator.informers.fetch(plural).load(*payload) : operator.informers.fetch(plural).dispatch(payload)
      end
      while (k = operator.queue.get(timeout: 0))
        operator.reconcile(k)
        operator.queue.done(k)
      end
      clock.advance(0.25)
    end
  end
end
