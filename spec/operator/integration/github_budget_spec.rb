# frozen_string_literal: true

require_relative "../support/operator_harness"

# The GitHub budget is shared by every object; a worker that finds it spent must move on to
# objects that need no GitHub request instead of sleeping until a token comes.
RSpec.describe "operator with the GitHub budget spent", kube: true do
  include_context "an operator against the API server"

  it "puts a deleted Leaf back at once while another Leaf waits for a token, and says why it waits" do
    serve_fluxcd(pages)
    # Three listing pages and three package pages spend the burst; the next token is 200 s away.
    start_operator(pages, github_rate: 0.005, github_burst: 6, concurrency: 1)
    apply_project("fluxcd", include: ["flagger*"])
    wait_project_ready("fluxcd", packages: 3)
    github = pages.request_count

    token = request_reconcile("leaves", "fluxcd-flagger")
    waiting = wait_for("the requested Leaf to show it waits") do
      l = leaf("fluxcd-flagger")
      l if condition(l, "Reconciling")&.dig(:status) == "True"
    end
    gone = leaf("fluxcd-flagger-arm64")
    api_for("leaves").delete("fluxcd-flagger-arm64", namespace)

    # The Project re-applies its Leaf from what it knows, with no GitHub request; the one worker
    # is free to do it.
    back = wait_for("the deleted Leaf to be applied again", timeout: 45) do
      l = leaf("fluxcd-flagger-arm64")
      l if l && l.dig(:metadata, :uid) != gone.dig(:metadata, :uid)
    end
    expect(back.dig(:spec, :package)).to eq("flagger-arm64")
    expect(leaf("fluxcd-flagger").dig(:status, :lastHandledReconcileAt)).not_to eq(token)
    expect(condition(waiting, "Reconciling")).to include(reason: "WaitingForGitHubBudget")
    expect(condition(waiting, "Reconciling")[:message]).to match(/\d+ ?s\b/)
    expect(pages.request_count).to eq(github)
  end

  it "reads a listing across reconciles when the budget runs out mid-listing, each page once" do
    serve_fluxcd(pages)
    # Two tokens read pages 1 and 2; page 3 waits 10 s for the next one, with the worker free.
    start_operator(pages, github_rate: 0.1, github_burst: 2, concurrency: 1)
    apply_project("fluxcd", include: ["flagger*"])
    waiting = wait_for("the Project to say its listing waits for the budget") do
      p = project("fluxcd")
      p if condition(p, "Reconciling")&.dig(:reason) == "WaitingForGitHubBudget"
    end
    expect(pages.request_count("/orgs/fluxcd/packages?page=3")).to eq(0)
    expect(condition(waiting, "Reconciling")[:message]).to match(/waiting \d+s/)

    wait_project_ready("fluxcd", packages: 3)
    expect((1..3).map { |n| pages.request_count("/orgs/fluxcd/packages?page=#{n}") }).to eq([1, 1, 1])
    expect(condition(project("fluxcd"), "Reconciling")).to be_nil
    expect(leaves.map { |l| l.dig(:spec, :package) }).to match_array(%w[flagger flagger-arm64 flagger-loadtester])
  end
end
