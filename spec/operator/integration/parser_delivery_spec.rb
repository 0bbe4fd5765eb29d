# frozen_string_literal: true

require_relative "../support/operator_harness"
require_relative "../../deploy/support/flux_crds"
require_relative "../../fixtures/guests/build"

# The fast path for a markup change, with the real operator (Runtime) on the real API server:
# GitHub's pages change so the parser in use rejects them, a fixed parser (built from a changed
# copy of wasm/) arrives as a new OCIRepository revision, and the Leafs the old parser failed are
# read again with it at once, without a restart. source-controller's part is played by the spec
# (status.artifact) and a server that serves the archive as source-controller does.
RSpec.describe "parser delivered through a Flux OCIRepository", kube: true do
  include StatsTracker::Testing::OperatorHarness

  let(:pages) { StatsTracker::Testing::PageServer.new.start }
  let(:artifacts) { StatsTracker::Testing::ArtifactServer.new.start }
  let(:world) { { "stats-tracker.dev/parser-wit-world" => StatsTracker::ParserWorld.name } }
  let(:repositories) do
    StatsTracker::Operator::Kube::ResourceApi.new(connection: connection, kind: "OCIRepository", plural: "ocirepositories",
                                                  group: "source.toolkit.fluxcd.io", version: "v1",
                                                  field_manager: "source-controller")
  end
  let(:fixed) { StatsTracker::Testing::ParserVariant.new(name: "pulls", changes: StatsTracker::Testing::ParserVariant::PULLS_LABEL).path }

  before(:context) do
    StatsTracker::Testing::FluxCrds.paths.each { |path| StatsTracker::Testing::KubeCluster.shared.apply_yaml(path) }
  end

  before { install_crds }

  after do
    stop_operators
    pages.stop
    artifacts.stop
  end

  # GitHub renames the label: the built-in parser finds no statistics on any package page.
  def serve_changed_markup
    pages.serve_listing(owner: "fluxcd", pages: StatsTracker::Testing::OperatorHarness::LISTING)
    names = StatsTracker::Testing::OperatorHarness::LISTING.flat_map { |f| parser.listing(File.binread(File.join(GHCR_FIXTURES, f))).packages.map(&:name) }
    names.each_with_index.to_h do |name, i|
      html = StatsTracker::Testing::ParserVariant.markup_change(StatsTracker::Testing::PageServer.package_html(total: 7000 + i))
      pages.serve_package(owner: "fluxcd", package: name, html: html)
      [name, 7000 + i]
    end
  end

  def publish(revision, component)
    served = artifacts.publish(namespace: namespace, name: "parser", files: { "ghcr_parser.wasm" => component })
    repositories.apply_status(name: "parser", namespace: namespace, status: { artifact: served.merge(
      revision: revision, lastUpdateTime: Time.now.utc.iso8601, metadata: world
    ) })
  end

  # The queue's retry of every failed Leaf pushed an hour out, as after many failures: only the
  # re-queue that follows a swap can make them read again within the wait below.
  def hold_back_retries(runtime, names)
    queue = runtime.manager.queue
    keys = names.map { |n| StatsTracker::Operator::Controller::ObjectKey.new(:leaf, namespace, n) }
    wait_for("every failed Leaf's retry an hour out") do
      keys.each { |k| queue.retry_after(k, 3600) }
      !queue.processing? && queue.depth.zero? && keys.all? { |k| queue.pending(k, :retry).to_f > 3000 }
    end
  end

  it "re-reads the Leafs the built-in parser rejected as soon as a fixed parser revision is verified" do
    expect(fixed).to end_with(".wasm") # built before the clock of any wait starts
    counts = serve_changed_markup
    repositories.apply({ metadata: { name: "parser", namespace: namespace },
                         spec: { interval: "5m", url: "oci://registry.example/stats-tracker-parser", ref: { semver: ">=0.1.0" } } })
    runtime = start_operator(pages, parser_oci_repository: "#{namespace}/parser")
    apply_project("fluxcd")

    failed = wait_for("every Leaf ParseFailed under the built-in parser") do
      all = leaves
      all if all.size == counts.size && all.all? { |l| condition(l)&.dig(:reason) == "ParseFailed" }
    end
    expect(condition(failed.first)[:message]).to include("no_statistics")
    expect(runtime.parser.loaded.source).to eq("builtin")
    hold_back_retries(runtime, failed.map { |l| l.dig(:metadata, :name) })

    # A component whose self-test fails changes nothing.
    publish("v0.1.1@sha256:hostile", File.binread(GuestBuild.component("hostile_component")))
    wait_for("the hostile revision refused") do
      runtime.metrics.value("stats_tracker_parser_refusals_total", revision: "v0.1.1@sha256:hostile", reason: "SelfTestFailed")
    end
    expect(runtime.parser.loaded.source).to eq("builtin")
    expect(leaves.map { |l| condition(l)[:reason] }.uniq).to eq(["ParseFailed"])

    publish("v0.1.2@sha256:fixed", File.binread(fixed))
    wait_for("every Leaf Ready with the served count, read by the fixed parser") do
      leaves.all? { |l| ready?(l) && l.dig(:status, :downloadCount) == counts[l.dig(:spec, :package)] }
    end
    expect(runtime.parser.loaded.to_h).to include(source: "ocirepository/#{namespace}/parser", revision: "v0.1.2@sha256:fixed")
    expect(runtime.metrics.render).to match(/^stats_tracker_parser_info\{[^}]*revision="v0.1.2@sha256:fixed"[^}]*\} 1$/)
  end
end
