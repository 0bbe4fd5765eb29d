# frozen_string_literal: true

require_relative "../support/operator_harness"

RSpec.describe "operator when the API server misbehaves", kube: true do
  include_context "an operator against the API server"

  # Runs before the shared context's stop: the examples may leave the API server down.
  after { kube.start_apiserver unless kube.apiserver_running? }

  def bump_and_request(package, total)
    serve_count(pages, package, total)
    request_reconcile("leaves", "fluxcd-#{package}")
    wait_for("#{package} to read #{total}") { leaf("fluxcd-#{package}")&.dig(:status, :downloadCount) == total }
  end

  def leaf_informer(runtime)
    runtime.manager.informers.find { |i| i.plural == "leaves" }
  end

  it "resumes a dropped watch and relists after 410 Gone without losing a change" do
    watches = StatsTracker::Testing::WatchControl.new
    runtime = start_operator(pages, watches: watches)
    serve_fluxcd(pages)
    apply_project("fluxcd", include: ["flagger*"])
    wait_project_ready("fluxcd", packages: 3)
    informer = leaf_informer(runtime)

    watches.drop("leaves")
    bump_and_request("flagger", 7_000)

    lists = informer.lists
    watches.expire("leaves")
    bump_and_request("flagger-arm64", 8_000)
    expect(informer.lists).to be > lists
    expect(leaves.size).to eq(3)
  end

  # Across a restart (seen failing the restart example in a full run) the Project watch lags while
  # the controller keeps writing: a requestedAt made meanwhile first reaches the operator inside
  # the response to its own status write, and the late watch event then looks like no change.
  it "handles a requestedAt it first sees in the response to its own status write" do
    watches = StatsTracker::Testing::WatchControl.new
    start_operator(pages, watches: watches)
    serve_fluxcd(pages)
    apply_project("fluxcd", include: ["flagger*"])
    wait_project_ready("fluxcd", packages: 3)

    watches.pause("projects")
    token = request_reconcile("projects", "fluxcd")
    # A Leaf change makes the Project write its aggregate status from its (stale) cached copy.
    total = project("fluxcd").dig(:status, :totalDownloads)
    bump_and_request("flagger", 7_000)
    wait_for("the Project to aggregate the new count") do
      project("fluxcd").dig(:status, :totalDownloads) != total
    end
    watches.resume("projects")

    wait_for("the Project to handle the request", timeout: 60) do
      project("fluxcd").dig(:status, :lastHandledReconcileAt) == token
    end
    expect(leaves.size).to eq(3)
  end

  it "rides out an API server restart: changes made after it come through, no Leaf is duplicated" do
    runtime = start_operator(pages)
    serve_fluxcd(pages)
    apply_project("fluxcd", include: ["flagger*"])
    wait_project_ready("fluxcd", packages: 3)

    kube.stop_apiserver
    serve_count(pages, "flagger-loadtester", 9_000)
    kube.start_apiserver
    request_reconcile("leaves", "fluxcd-flagger-loadtester")
    wait_for("the change made across the restart") do
      leaf("fluxcd-flagger-loadtester")&.dig(:status, :downloadCount) == 9_000
    end

    # The listing is read again after the restart too; it must converge on the same three Leafs.
    token = request_reconcile("projects", "fluxcd")
    begin
      wait_for("the Project to handle the request", timeout: 150) do
        project("fluxcd").dig(:status, :lastHandledReconcileAt) == token
      end
    rescue RSpec::Expectations::ExpectationNotMetError
      warn "project after timeout: #{project('fluxcd').inspect}"
      warn runtime.metrics.render
      raise
    end
    names = leaves.map { |l| l.dig(:metadata, :name) }
    expect(names).to match_array(%w[fluxcd-flagger fluxcd-flagger-arm64 fluxcd-flagger-loadtester])
    expect(runtime.manager.state).to eq(:running)
  end
end
