# frozen_string_literal: true

require_relative "../simulation/scripted_operator"

# The Project controller's Leaf applies and deletes carry the resourceVersion they were decided
# on, scripted on the simulated clock and API server with the real queue, informers, controllers
# and reconcilers. The Leaf cache is made to lag the API server by one write (another worker's or
# another replica's status write the watch has not brought yet).
RSpec.describe "Project Leaf writes on condition of the version read" do
  sim = StatsTracker::Simulation

  include_context "scripted operator"

  # The operator's writes that replaced a version other than the one they were based on (the
  # lost_update invariant).
  let(:lost) { [] }

  before do
    server.on_write = lambda do |by, what, _plural, key, base:, replaces:|
      lost << "#{what} #{key}" if by && replaces && replaces.dig(:metadata, :resourceVersion) != base
    end
    start_project(%w[a b c])
  end

  # Another writer changes the Leaf's status; the cache still holds the version before.
  def write_elsewhere_unseen(name, count)
    store = operator.store("leaves")
    stale = store.get("ns/#{name}")
    server.apply_status("leaves", name, "ns", stale[:status].merge(downloadCount: count))
    run_for(2)
    store.remove(store.get("ns/#{name}"))
    store.put(stale)
  end

  def request(token)
    server.annotate("projects", "ns/apps", StatsTracker::Operator::Reconcilers::Schedule::REQUESTED_AT, token)
    run_for(5)
  end

  it "deletes an unlisted Leaf that changed since it was read only after reading it again" do
    github.unlist_package("acme", "c")
    request("t1")
    expect(server.get("leaves", "ns/apps-c")).not_to be_nil # one complete listing without it is not enough
    write_elsewhere_unseen("apps-c", 77)
    request("t2")
    expect(lost).to eq([])
    expect(trace).to include(a_string_matching(/delete of Leaf apps-c by the operator -> 409/))
    expect(server.get("leaves", "ns/apps-c")).to be_nil
    expect(server.deletions.map { |d| [d[:key], d[:object].dig(:status, :downloadCount)] }).to eq([["ns/apps-c", 77]])
  end

  # Here the Leaf that exists is not this Project's (no controller reference): read first, its
  # name counts as taken, and the Project's Leaf gets a suffixed name instead of taking it over.
  it "creates a Leaf only if it does not exist: one created meanwhile, unseen by the cache, is read first" do
    github.list_package("acme", "d")
    other = server.apply("leaves", { apiVersion: sim::ApiServer::GROUP_VERSION, kind: "Leaf",
                                     metadata: { name: "apps-d", namespace: "ns", labels: {} },
                                     spec: { owner: "acme", package: "d", interval: "5m" } })
    run_for(2)
    operator.store("leaves").remove(other.merge(metadata: other[:metadata].merge(resourceVersion: "999999")))
    request("t1")
    expect(lost).to eq([])
    expect(trace).to include(a_string_matching(/apply of Leaf apps-d by the operator -> 409/))
    kept = server.get("leaves", "ns/apps-d")
    expect([kept.dig(:metadata, :uid), kept[:spec], kept.dig(:metadata, :ownerReferences)])
      .to eq([other.dig(:metadata, :uid), other[:spec], nil])
    expect(server.all("leaves").map { |l| l.dig(:metadata, :name) }).to include(a_string_matching(/\Aapps-d-\h+\z/))
  end

  it "applies a changed Leaf over another writer's version only after reading it again" do
    write_elsewhere_unseen("apps-a", 99)
    server.edit_spec("projects", "ns/apps", interval: "2h")
    run_for(10)
    expect(lost).to eq([])
    expect(trace).to include(a_string_matching(/apply of Leaf apps-a by the operator -> 409/))
    expect(server.get("leaves", "ns/apps-a").dig(:spec, :interval)).to eq("2h")
    expect(server.get("projects", "ns/apps").dig(:status, :observedGeneration)).to eq(2)
  end
end
