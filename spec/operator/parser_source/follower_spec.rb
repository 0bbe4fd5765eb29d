# frozen_string_literal: true

require "stringio"
require_relative "../support/operator_harness"
require_relative "../../deploy/support/flux_crds"
require_relative "../../fixtures/guests/build"
require "stats_tracker/operator/parser_source/current_parser"
require "stats_tracker/operator/parser_source/follower"
require "stats_tracker/operator/parser_source/artifact_download"
require "stats_tracker/operator/parser_source/candidate_check"

# The follower against the real kube-apiserver with Flux's own OCIRepository CRD (from the pinned
# source-controller module), and a server that stores and serves artifacts as source-controller
# does. The spec plays source-controller's part by writing status.artifact.
RSpec.describe StatsTracker::Operator::ParserSource::Follower, kube: true do
  include StatsTracker::Testing::OperatorHarness

  let(:source_group) { "source.toolkit.fluxcd.io" }
  let(:artifacts) { StatsTracker::Testing::ArtifactServer.new.start }
  let(:repositories) do
    StatsTracker::Operator::Kube::ResourceApi.new(connection: connection, kind: "OCIRepository", plural: "ocirepositories",
                                                  group: source_group, version: "v1", field_manager: "source-controller")
  end
  let(:metrics) { StatsTracker::Operator::Controller::Metrics.new.tap { |m| described_class.register_metrics(m) } }
  let(:log) { StringIO.new }
  let(:builtin) { StatsTracker::Parser.new }
  let(:current) { StatsTracker::Operator::ParserSource::CurrentParser.initial(builtin) }
  let(:bundled) { File.binread(StatsTracker::Parser::BUNDLED_COMPONENT) }
  let(:world) { { "stats-tracker.dev/parser-wit-world" => StatsTracker::ParserWorld.name } }
  let(:swaps) { Queue.new }

  before(:context) do
    StatsTracker::Testing::FluxCrds.paths.each { |path| StatsTracker::Testing::KubeCluster.shared.apply_yaml(path) }
  end

  after do
    warn log.string if ENV["FOLLOWER_LOG"] # the follower's log lines, when a wait times out
    @follower&.stop
    artifacts.stop
  end

  def start_follower(name: "parser")
    events = StatsTracker::Operator::Kube::Events.new(api: api_for("events"), controller: "test", instance: "spec",
                                                      logger: StatsTracker::Operator::Log.new(io: log))
    @follower = described_class.new(
      api: StatsTracker::Operator::Kube::ResourceApi.new(connection: connection, kind: "OCIRepository",
                                                         plural: "ocirepositories", group: source_group),
      namespace: namespace, name: name, current: current, check: StatsTracker::Operator::ParserSource::CandidateCheck.new,
      download: StatsTracker::Operator::ParserSource::ArtifactDownload.new(timeout: 30), events: events, metrics: metrics,
      logger: StatsTracker::Operator::Log.new(io: log), on_swap: -> { swaps << current.loaded.revision }
    ).start
  end

  def create_repository(name = "parser")
    repositories.apply({ metadata: { name: name, namespace: namespace },
                         spec: { interval: "5m", url: "oci://registry.example/stats-tracker-parser", ref: { tag: "v1" } } })
  end

  # What source-controller writes once it has pulled a revision: the artifact it stores.
  def publish(revision, component, metadata: world, name: "parser", files: nil)
    served = artifacts.publish(namespace: namespace, name: name, files: files || { "ghcr_parser.wasm" => component })
    artifact = served.merge(revision: revision, lastUpdateTime: Time.now.utc.iso8601, metadata: metadata)
    repositories.apply_status(name: name, namespace: namespace, status: { artifact: artifact })
    artifact
  end

  # Ruby 3.1's Queue#pop has no timeout.
  def next_swap
    wait_for("a parser swap", timeout: 300) { !swaps.empty? }
    swaps.pop
  end

  def refusals(revision, reason) = metrics.value(described_class::REFUSALS, revision: revision, reason: reason).to_i

  def wait_refused(revision, reason)
    wait_for("#{revision} refused with #{reason}") { refusals(revision, reason).positive? }
  end

  def events_for(name)
    api_for("events").list(namespace: namespace).first.select { |e| e.dig(:regarding, :name) == name }
  end

  # Another archive of the same component: a new revision whose digest differs.
  def repacked(note) = { "ghcr_parser.wasm" => bundled, "NOTES" => note }

  it "loads a verified revision, refuses bad ones keeping the parser in use, and swaps back when pinned back" do
    create_repository
    create_repository("unrelated")
    start_follower
    publish("u1@sha256:other", File.binread(GuestBuild.component("hostile_component")), name: "unrelated")
    page = File.binread(File.join(GHCR_FIXTURES, "package-small-42.html"))

    # The first revision: downloaded, verified, self-tested, swapped in.
    v1 = publish("v1@sha256:aaa", bundled)
    expect(next_swap).to eq("v1@sha256:aaa")
    expect(current.loaded.to_h).to include(source: "ocirepository/#{namespace}/parser", digest: v1[:digest])
    expect(current.package(page).total_downloads).to eq(42)
    expect(metrics.value(described_class::INFO, source: "ocirepository/#{namespace}/parser", revision: "v1@sha256:aaa",
                                                digest: v1[:digest])).to eq(1)
    expect(metrics.value(described_class::LOADED_AT)).to be_within(300).of(Time.now.to_f)
    expect(metrics.value(described_class::LOAD_SECONDS)).to be_positive
    expect(log.string).to match(/parser swapped.*v1@sha256:aaa/)

    # A component that parses the corpus wrongly: refused, the Event and the metric name it.
    publish("v2@sha256:bad", File.binread(GuestBuild.component("hostile_component")))
    wait_refused("v2@sha256:bad", "SelfTestFailed")
    expect(current.loaded.revision).to eq("v1@sha256:aaa")
    expect(current.package(page).total_downloads).to eq(42)

    # Another WIT world, then an archive that is not what status.artifact.digest says.
    publish("v3@sha256:world", nil, files: repacked("v3"), metadata: { "stats-tracker.dev/parser-wit-world" => "other:ns/world@9.0.0" })
    wait_refused("v3@sha256:world", "WrongWorld")
    served = artifacts.publish(namespace: namespace, name: "parser", files: { "ghcr_parser.wasm" => bundled, "x" => "y" })
    repositories.apply_status(name: "parser", namespace: namespace, status: { artifact: served.merge(
      revision: "v4@sha256:tampered", digest: "sha256:#{"e" * 64}", lastUpdateTime: Time.now.utc.iso8601, metadata: world
    ) })
    wait_refused("v4@sha256:tampered", "DigestMismatch")
    expect(current.loaded.revision).to eq("v1@sha256:aaa")

    wait_for("Warning Events on the OCIRepository naming the refused revisions") do
      notes = events_for("parser").select { |e| e[:reason] == "ParserRefused" }.map { |e| e[:note] }
      %w[v2@sha256:bad v3@sha256:world v4@sha256:tampered].all? { |r| notes.any? { |n| n.include?(r) } } && notes
    end
    refused = events_for("parser").find { |e| e[:reason] == "ParserRefused" }
    expect(refused).to include(type: "Warning", regarding: include(kind: "OCIRepository", name: "parser",
                                                                   apiVersion: "#{source_group}/v1"))
    expect(events_for("parser").map { |e| e[:reason] }).to include("ParserLoaded")

    # A good new revision, then the previous one pinned again: the operator swaps back.
    publish("v5@sha256:new", nil, files: repacked("v5"))
    expect(next_swap).to eq("v5@sha256:new")
    # Pinned back: source-controller serves the artifact it stored for that revision.
    repositories.apply_status(name: "parser", namespace: namespace, status: { artifact: v1 })
    expect(next_swap).to eq("v1@sha256:aaa")
    expect(current.loaded.digest).to eq(v1[:digest])
    info = metrics.render.lines.grep(/\A#{described_class::INFO}\{/)
    expect(info.size).to eq(1)
    expect(info.first).to include('revision="v1@sha256:aaa"')
    # Only the named object is followed.
    expect(metrics.render).not_to include("u1@sha256:other")
  end

  it "retries a download that failed and loads the revision once source-controller serves it" do
    create_repository
    start_follower
    archive = StatsTracker::Testing::ArtifactServer.tar_gz("ghcr_parser.wasm" => bundled)
    path = "/ocirepository/#{namespace}/parser/later.tar.gz"
    repositories.apply_status(name: "parser", namespace: namespace, status: { artifact: {
                                url: "#{artifacts.base_url}#{path}", digest: "sha256:#{Digest::SHA256.hexdigest(archive)}", size: archive.bytesize,
                                path: path.delete_prefix("/"), revision: "v1@sha256:later", lastUpdateTime: Time.now.utc.iso8601, metadata: world
                              } })
    wait_refused("v1@sha256:later", "DownloadFailed")
    # The very archive the status names, served from now on.
    artifacts.put(path, archive)
    expect(next_swap).to eq("v1@sha256:later")
  end
end
