# frozen_string_literal: true

require_relative "../support/operator_harness"

RSpec.describe "operator main path", kube: true do
  include_context "an operator against the API server"

  it "turns a 3-page listing into one Ready Leaf per package with its count, shown by kubectl" do
    counts = serve_fluxcd(pages)
    runtime = start_operator(pages)
    apply_project("fluxcd")

    proj = wait_project_ready("fluxcd", packages: counts.size)
    expect(proj.dig(:status, :totalDownloads)).to eq(counts.values.sum)
    expect(proj.dig(:status, :observedGeneration)).to eq(proj.dig(:metadata, :generation))

    all = leaves
    expect(all.size).to eq(22)
    by_package = all.to_h { |l| [l.dig(:spec, :package), l] }
    expect(by_package.keys).to match_array(counts.keys)
    counts.each do |package, count|
      l = by_package.fetch(package)
      expect(l.dig(:status, :downloadCount)).to eq(count)
      expect(condition(l)).to include(status: "True", reason: "Succeeded")
      expect(l.dig(:status, :history).map { |h| h[:downloadCount] }).to eq([count])
      expect(l.dig(:metadata, :ownerReferences)).to contain_exactly(
        include(kind: "Project", name: "fluxcd", uid: proj.dig(:metadata, :uid), controller: true)
      )
    end
    # "charts/flagger" is not a valid object name; the slash becomes a dash.
    expect(by_package["charts/flagger"].dig(:metadata, :name)).to eq("fluxcd-charts-flagger")
    expect(by_package["charts/flagger"].dig(:status, :last30Days).size).to eq(30)

    table = kubectl!("get", "leaves", "-n", namespace)
    header, *rows = table.lines.map(&:split)
    expect(header).to eq(%w[NAME READY DOWNLOADS TOP TAG LAST UPDATE AGE])
    row = rows.find { |r| r.first == "fluxcd-source-controller" }
    expect(row[1..2]).to eq(["True", counts.fetch("source-controller").to_s])

    # Each Leaf cost exactly one apply and one status write (the rate limiter never made it
    # wait, so no Reconciling announcement), and each page one GET.
    expect(runtime.kube_requests(verb: :apply)).to eq(22)
    expect(runtime.kube_requests(verb: :apply_status, resource: "leaves")).to eq(22)
    expect(pages.request_count("/orgs/fluxcd/packages/container/package/")).to eq(22)
    expect(pages.request_count("/orgs/fluxcd/packages?")).to eq(3)
  end

  it "makes no request and no write for an event that brings nothing due" do
    serve_fluxcd(pages)
    runtime = start_operator(pages)
    apply_project("fluxcd")
    wait_project_ready("fluxcd", packages: 22)
    wait_for("the queue to settle") { runtime.manager.queue.depth.zero? && !runtime.manager.queue.processing? }
    writes = runtime.kube_requests
    github = pages.request_count
    seen = runtime.metrics.value("stats_tracker_watch_events_total", { resource: "leaves", type: "MODIFIED" })

    # A label change is a real watch event for the Leaf, but changes neither generation nor request.
    kubectl!("label", "-n", namespace, "leaves.stats-tracker.dev", "fluxcd-flagger", "touched=yes")
    wait_for("the label event to reach the operator") do
      runtime.metrics.value("stats_tracker_watch_events_total", { resource: "leaves", type: "MODIFIED" }) > seen
    end
    wait_for("the queue to settle") { runtime.manager.queue.depth.zero? && !runtime.manager.queue.processing? }

    expect(runtime.kube_requests).to eq(writes)
    expect(pages.request_count).to eq(github)
  end

  it "picks up a changed count after a requestedAt annotation, echoing the token" do
    serve_fluxcd(pages)
    start_operator(pages)
    apply_project("fluxcd")
    wait_project_ready("fluxcd", packages: 22)
    before = leaf("fluxcd-flagger")

    serve_count(pages, "flagger", 5_000_000_000)
    token = request_reconcile("leaves", "fluxcd-flagger")

    after = wait_for("the new count") do
      l = leaf("fluxcd-flagger")
      l if l.dig(:status, :downloadCount) == 5_000_000_000
    end
    expect(after.dig(:status, :lastHandledReconcileAt)).to eq(token)
    expect(after.dig(:status, :history).map { |h| h[:downloadCount] })
      .to eq([before.dig(:status, :downloadCount), 5_000_000_000])
    wait_for("the Project total to follow") do
      project("fluxcd").dig(:status, :totalDownloads) ==
        leaves.sum { |l| l.dig(:status, :downloadCount) }
    end
  end

  it "re-reads every package after its interval without being asked" do
    counts = serve_fluxcd(pages)
    start_operator(pages)
    apply_project("fluxcd", interval: "1m", include: ["flagger*"])
    wait_project_ready("fluxcd", packages: 3)
    expect(leaves.map { |l| l.dig(:spec, :package) }).to match_array(%w[flagger flagger-loadtester flagger-arm64])

    serve_count(pages, "flagger-arm64", counts.fetch("flagger-arm64") + 7)
    wait_for("the interval to bring the new count") do
      leaf("fluxcd-flagger-arm64").dig(:status, :downloadCount) == counts.fetch("flagger-arm64") + 7
    end
  end

  it "deletes the Leaf of a package that left the listing, and all Leafs with their Project" do
    serve_fluxcd(pages)
    start_operator(pages)
    apply_project("fluxcd", exclude: ["*-arm64"])
    wait_project_ready("fluxcd", packages: 18)

    apply_project("fluxcd", exclude: ["*-arm64", "charts/*"])
    wait_for("the chart Leafs to go") { leaves.none? { |l| l.dig(:spec, :package).start_with?("charts/") } }
    expect(leaves.size).to eq(16)
    wait_project_ready("fluxcd", packages: 16)

    api_for("projects").delete("fluxcd", namespace)
    wait_for("the garbage collector to remove every Leaf") { leaves.empty? }
  end

  it "stops all GitHub requests while suspended" do
    serve_fluxcd(pages)
    start_operator(pages)
    apply_project("fluxcd", include: ["flux-*"])
    wait_project_ready("fluxcd", packages: 4)

    apply_project("fluxcd", include: ["flux-*"], suspend: true)
    wait_for("the Leafs to be suspended") do
      leaves.all? { |l| l.dig(:spec, :suspend) && l.dig(:status, :observedGeneration) == l.dig(:metadata, :generation) }
    end
    requests = pages.request_count
    token = request_reconcile("leaves", "fluxcd-flux-cli")
    wait_for("the request to be acknowledged") { leaf("fluxcd-flux-cli").dig(:status, :lastHandledReconcileAt) == token }
    expect(pages.request_count).to eq(requests)
  end

  it "watches only WATCH_NAMESPACE; a Project elsewhere keeps the schema's observedGeneration -1" do
    serve_fluxcd(pages)
    elsewhere = kube.create_namespace("unwatched")
    body = { apiVersion: "stats-tracker.dev/v1alpha1", kind: "Project", metadata: { name: "fluxcd", namespace: elsewhere },
             spec: { owner: "fluxcd" } }
    api_for("projects").apply(body)
    start_operator(pages)
    apply_project("fluxcd", include: ["flagger"])
    wait_project_ready("fluxcd", packages: 1)

    other = api_for("projects").get("fluxcd", elsewhere)
    expect(other[:status]).to eq(observedGeneration: -1)
    expect(api_for("leaves").list(namespace: elsewhere).first).to be_empty
    # kstatus reads a generation-1 object with observedGeneration -1 as in progress, not healthy.
    expect(other.dig(:metadata, :generation)).to eq(1)
  ensure
    kube.delete_namespace(elsewhere) if elsewhere
  end

  it "announces Reconciling on Leafs that have to wait for the GitHub rate limiter" do
    serve_fluxcd(pages)
    runtime = start_operator(pages, github_rate: 0.5, github_burst: 1)
    apply_project("fluxcd", include: ["flagger*"])
    seen = wait_for("a Leaf showing Reconciling=True") do
      leaves.find { |l| condition(l, "Reconciling")&.dig(:status) == "True" }
    end
    expect(condition(seen)).to include(status: "Unknown", reason: "WaitingForGitHubBudget")
    wait_project_ready("fluxcd", packages: 3)
    expect(leaves.map { |l| condition(l, "Reconciling") }).to all(be_nil)
    expect(runtime.kube_requests(verb: :apply_status, resource: "leaves")).to be > 3
  end
end
