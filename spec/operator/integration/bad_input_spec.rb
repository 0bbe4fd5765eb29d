# frozen_string_literal: true

require "date"
require_relative "../support/operator_harness"

# What GitHub or a user can hand the operator that the API server would refuse, or that must not
# spend someone else's token.
RSpec.describe "operator on bad input", kube: true do
  include_context "an operator against the API server"

  def wait_leaf(name, what)
    wait_for(what) do
      l = leaf(name)
      l if l && yield(l)
    end
  end

  # The package fixture with `extra` more chart bars, on the days before its first one.
  def page_with_bars(extra)
    html = StatsTracker::Testing::PageServer.package_html(total: 42).dup.force_encoding(Encoding::UTF_8)
    first = html.scan(/data-date="(\d{4}-\d{2}-\d{2})"/).flatten.min
    bars = (1..extra).map do |i|
      %(<rect x="0" y="24" data-merge-count="1" data-date="#{Date.parse(first) - i}" width="2" height="1" rx="1" fill="#28A745"></rect>)
    end
    anchor = html.index(%(data-date="#{first}"))
    close = html.index("</rect>", anchor) + "</rect>".length
    html.insert(close, bars.join)
  end

  it "reports a count past 2^63-1 as CountOutOfRange and keeps the Leaf's count and history" do
    serve_fluxcd(pages)
    start_operator(pages)
    apply_project("fluxcd", include: ["flagger"])
    wait_project_ready("fluxcd", packages: 1)
    before = leaf("fluxcd-flagger")

    serve_count(pages, "flagger", 2**63)
    request_reconcile("leaves", "fluxcd-flagger")
    failed = wait_leaf("fluxcd-flagger", "Ready=False/CountOutOfRange") do |l|
      condition(l)&.values_at(:status, :reason) == %w[False CountOutOfRange]
    end
    expect(failed.dig(:status, :downloadCount)).to eq(before.dig(:status, :downloadCount))
    expect(failed.dig(:status, :history)).to eq(before.dig(:status, :history))
  end

  it "writes the most recent 62 bars of a chart with more, instead of a status the API server refuses" do
    serve_fluxcd(pages)
    pages.serve_package(owner: "fluxcd", package: "flagger", html: page_with_bars(40))
    start_operator(pages)
    apply_project("fluxcd", include: ["flagger"])
    ready = wait_leaf("fluxcd-flagger", "the Leaf Ready") { |l| ready?(l) }
    days = ready.dig(:status, :last30Days)
    expect(days.size).to eq(62)
    expect(days.map { |d| d[:date] }).to eq(days.map { |d| d[:date] }.sort)
  end

  it "gives the Leafs of a Project with a name longer than 63 characters a valid label" do
    serve_fluxcd(pages)
    start_operator(pages)
    name = "a-project-whose-name-is-longer-than-any-label-value-may-be.example"
    apply_project(name, include: ["flagger*"])
    wait_project_ready(name, packages: 3)
    labels = leaves.map { |l| l.dig(:metadata, :labels, :"stats-tracker.dev/project") }
    expect(labels.uniq.size).to eq(1)
    expect(labels.first.length).to be <= 63
  end

  it "applies every other Leaf when the API server refuses one" do
    counts = serve_fluxcd(pages)
    listing = StatsTracker::Testing::OperatorHarness::LISTING
    html = pages.corpus.read(listing.first).dup.force_encoding(Encoding::UTF_8)
    refused = "flagger-loadtester#{'-x' * 130}" # longer than the CRD's 256 for spec.package
    pages.serve_listing(owner: "fluxcd", pages: [html.gsub("flagger-loadtester", refused)] + listing.drop(1))
    start_operator(pages)
    apply_project("fluxcd")

    others = counts.keys - ["flagger-loadtester"]
    wait_for("every other Leaf") { (others - leaves.map { |l| l.dig(:spec, :package) }).empty? }
    expect(leaves.map { |l| l.dig(:spec, :package) }).not_to include(refused)
  end

  it "never spends the operator's own token for a Project whose secretRef cannot be read" do
    serve_fluxcd(pages)
    start_operator(pages, github_token: "operator-wide-token")
    apply_project("fluxcd", include: ["flagger"], secretRef: { name: "missing" })

    failed = wait_for("Project Ready=False/SecretNotFound") do
      p = project("fluxcd")
      p if condition(p)&.values_at(:status, :reason) == %w[False SecretNotFound]
    end
    expect(condition(failed)[:message]).to include("missing")
    expect(pages.requests.map { |r| r[:authorization] }).not_to include("Bearer operator-wide-token")
    expect(leaves).to be_empty
  end

  # Secrets are read, not watched (the operator may only `get` them): a Secret created after the
  # refusal is found by the failed read's own retry, with no restart and no requestedAt.
  it "picks up a secretRef's Secret created after the refusal, and spends its token" do
    serve_fluxcd(pages)
    start_operator(pages, github_token: "operator-wide-token")
    apply_project("fluxcd", include: ["flagger"], secretRef: { name: "late" })
    wait_for("Project Ready=False/SecretNotFound") do
      condition(project("fluxcd"))&.values_at(:status, :reason) == %w[False SecretNotFound]
    end

    kubectl!("create", "secret", "generic", "late", "-n", namespace, "--from-literal=token=project-token")
    wait_for("Project Ready") { ready?(project("fluxcd")) }
    tokens = pages.requests.map { |r| r[:authorization] }.compact.uniq
    expect(tokens).to eq(["Bearer project-token"])
  end

  it "refuses a secretRef name that is not a Secret name" do
    expect { apply_project("fluxcd", secretRef: { name: "Not A Name!" }) }
      .to raise_error(Kubeclient::HttpError) { |e| expect(e.error_code).to eq(422) }
  end
end
