# frozen_string_literal: true

require "fileutils"
require "json"
require "open3"
require "pathname"
require "yaml"
require "stats_tracker"
require_relative "../../testing/page_server"
require_relative "../../testing/e2e/checks"
require_relative "../../testing/e2e/cluster_logs"
require_relative "../../testing/e2e/flux"
require_relative "../../testing/e2e/kubectl"
require_relative "../../testing/e2e/node/cluster"
require_relative "../../testing/e2e/signing"
require_relative "scenarios"
require_relative "parser_scenarios"
require_relative "signing_scenarios"

module StatsTracker
  module E2E
    # bin/e2e's whole run: set-up steps (each a counted check that blocks the rest when it fails),
    # the scenarios, and teardown with a check that the host is as it was.
    class Run
      include Scenarios
      include ParserScenarios
      include SigningScenarios

      LISTING = %w[listing-fluxcd-page1.html listing-fluxcd-page2.html listing-fluxcd-page3.html].freeze
      TAG = "e2e"
      # Under the node's log dir, so teardown keeps it with the node's own logs.
      CLUSTER_LOGS = "cluster"

      def initialize(node:, root:)
        @node = node
        @root = root
        @checks = Checks.new(on_failure: ->(result) { keep_cluster_logs(failed: result) })
        @kubectl = Kubectl.new(node: node)
        @signing = Signing.new
      end

      def call
        started = monotonic
        begin
          setup
          scenarios
        ensure
          @pages&.stop
          keep_cluster_logs
          @checks.always("teardown: only our processes stopped, host state restored") do
            problems = @node.down
            raise "left behind: #{problems.join("; ")}" unless problems.empty?
          end
        end
        puts format("e2e: wall time %.0f s (logs: %s)", monotonic - started, @node.kept_log_dir)
        puts "e2e: operator Pod logs and cluster Events: #{File.join(@node.kept_log_dir, CLUSTER_LOGS)}"
        puts @checks.summary
        @checks.failed.zero? ? 0 : 1
      end

      private

      def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)

      # Before teardown drains the Pods, and as each check fails (a later check may replace the
      # Pods it ran against); never in the way of teardown itself.
      def keep_cluster_logs(failed: nil)
        dir = File.join(@node.log_dir, CLUSTER_LOGS)
        dir = File.join(dir, "after-#{@checks.results.size}-#{failed.name[/\A[\w ]+/].strip.tr(" ", "-")}") if failed
        ClusterLogs.new(node: @node, namespace: Scenarios::NS, selector: Kubectl::OPERATOR_SELECTOR).write(dir)
      rescue StandardError => e
        warn "e2e: could not keep the operator Pod logs and Events: #{e.class}: #{e.message}"
      end

      def setup
        @checks.run("machine has every piece bin/e2e needs", setup: true) do
          missing = Node::Cluster.missing_pieces + Flux.missing_pieces + Signing.missing_pieces
          raise "missing: #{missing.join("; ")}" unless missing.empty?

          @signing.ensure_key_pair
          nil
        end
        @checks.run("node up: control plane, registry, containerd, kubelet, kube-scheduler, kube-proxy", setup: true) do
          @node.up
          "node Ready, registry #{@node.registry.address}"
        end
        @checks.run("Flux source-controller and kustomize-controller up with their own CRDs", setup: true) do
          Flux.new(node: @node).start
          nil
        end
        @checks.run("rake release:publish: operator image and manifests artifact pushed, cosign-signed", setup: true) do
          @release = publish(revision: "e2e-1")
          raise "signed #{@release["signed"]}, want the image and the manifests" unless @release["signed"].size == 2

          "#{@release["image"]}, #{@release["manifests"]} (#{@release["manifests_digest"]}), signed"
        end
        @checks.run("rake release:parser: the built-in parser published as its own artifact #{PARSER_TAGS[:builtin]}, cosign-signed",
                    setup: true) do
          @parser_releases = { builtin: publish_parser(tag: PARSER_TAGS[:builtin]) }
          raise "signed #{@parser_releases[:builtin]["signed"]}, want the parser artifact" unless @parser_releases[:builtin]["signed"].size == 1

          "#{@parser_releases[:builtin]["parser"]} (#{@parser_releases[:builtin]["digest"]}), signed"
        end
        @checks.run("repository's Flux manifests applied (test overlay); Kustomizations Ready in order", setup: true) do
          serve_pages
          apply_overlay
          parser_verify_secret
          kustomizations_ready_in_order + "; #{parser_source_ready}"
        end
        @checks.run("operator Pods: published image, production securityContext, in-cluster identity", setup: true) do
          operator_pods_as_in_production
        end
        @checks.run("sample Project served by the local page server: every Leaf Ready", setup: true) do
          sample_leaves_ready
        end
      end

      # Resources first: the peak RSS must be that of the Pods that just did the full sample run.
      def scenarios
        @checks.run("resources: pool slots = worker concurrency, Pod within its memory limit") { resources }
        @checks.run("module cache: after a container restart the parser is loaded from the emptyDir cache") { module_cache_after_restart }
        @checks.run("cosign: source-controller verified the signed manifests artifact (spec.verify)") { signed_artifact_verified }
        @checks.run("cosign: an unsigned artifact re-pushed under the tag is refused, the running revision stays") do
          unsigned_artifact_refused
        end
        @checks.run("rolling update: new image and artifact rolled out, Leafs and history kept, Project Ready") { rolling_update }
        @checks.run("failover: leader Pod deleted, the standby takes the Lease and reconciles, never two leaders") { failover }
        @checks.run("Flux reverts drift (deleted Deployment, hand edit) when requestedAt is set") { flux_reverts_drift }
        @checks.run("probes pass, /metrics scraped from the Pod IP, kubectl wait Ready") { probes_and_metrics }
        @checks.run("parser recovery: markup change -> ParseFailed; fixed parser published; Leafs Ready, no restart") do
          parser_recovery
        end
        @checks.run("parser rollback: pinning the previous revision swaps the operator back, unpinning forward") { parser_rollback }
        @checks.run("cosign: an unsigned parser artifact in range is refused (spec.verify), every Pod keeps its parser") do
          unsigned_parser_refused
        end
        @checks.run("broken parser artifact refused: previous parser stays, Event and refusal metric name it") do
          broken_parser_refused
        end
      end

      # --- set-up steps -------------------------------------------------------------------

      # signed: with the e2e key pair (SIGN_KEY), as a release is; false for the refusal check.
      def publish(revision:, signed: true)
        out_file = File.join(@node.dir, "release-#{revision}.json")
        env = { "REGISTRY" => @node.registry.address, "INSECURE" => "1", "TAG" => TAG, "REVISION" => revision,
                "RELEASE_OUT" => out_file, "RELEASE_SOURCE_DIR" => File.join(@node.dir, "flux-source-#{revision}"),
                "SIGN_KEY" => nil }
        env.merge!(@signing.env) if signed
        log = File.join(@node.log_dir, "publish-#{revision}.log")
        ok = system(env, "bundle", "exec", "rake", "release:publish", chdir: @root, out: log, err: log)
        raise "rake release:publish failed:\n#{File.read(log).lines.last(30).join}" unless ok

        JSON.parse(File.read(out_file))
      end

      def serve_pages
        @pages = Testing::PageServer.new(bind: Node::Network::NODE_IP).start
        @pages.serve_listing(owner: "fluxcd", pages: LISTING)
        parser = StatsTracker::Parser.new
        names = LISTING.flat_map { |f| parser.listing(@pages.corpus.read(f)).packages.map(&:name) }
        @packages = names.each_with_index.to_h do |name, i|
          @pages.serve_package(owner: "fluxcd", package: name, html: Testing::PageServer.package_html(total: 5000 + i))
          [name, 5000 + i]
        end
      end

      # The Flux source `rake release:publish` wrote (the repository's operator/deploy/flux/oci,
      # unchanged, pointed at the artifact it pushed), under an overlay that points the operator at
      # the local page server and makes the OCIRepository verify the e2e key's signatures.
      def apply_overlay
        dir = File.join(@node.dir, "flux-overlay")
        FileUtils.mkdir_p(dir)
        secret, verify_patch = verify_resources
        File.write(File.join(dir, "cosign-public-key.yaml"), YAML.dump(secret))
        File.write(File.join(dir, "kustomization.yaml"), YAML.dump(overlay(verify_patch)))
        @kubectl.run!("apply", "--server-side", "-k", dir)
      end

      # LOG_LEVEL=debug: the Pod logs a failed check keeps then say what the operator decided
      # (why a reconcile waited or was skipped), not only what it wrote.
      def overlay(verify_patch)
        env_patch = { "apiVersion" => "apps/v1", "kind" => "Deployment",
                      "metadata" => { "name" => "stats-tracker-operator", "namespace" => "stats-tracker-system" },
                      "spec" => { "template" => { "spec" => { "containers" => [
                        { "name" => "operator", "env" => [{ "name" => "GITHUB_BASE_URL", "value" => @pages.base_url },
                                                          { "name" => "GITHUB_RATE", "value" => "50" },
                                                          { "name" => "GITHUB_BURST", "value" => "50" },
                                                          { "name" => "LOG_LEVEL", "value" => "debug" }] }
                      ] } } } }
        { "apiVersion" => "kustomize.config.k8s.io/v1beta1", "kind" => "Kustomization",
          # kustomize takes no absolute paths.
          "resources" => [Pathname(@release.fetch("flux_source"))
            .relative_path_from(File.join(@node.dir, "flux-overlay")).to_s, "cosign-public-key.yaml"],
          "patches" => [
            verify_patch,
            { "target" => { "kind" => "Kustomization", "name" => "stats-tracker-parser" },
              "patch" => YAML.dump([{ "op" => "add", "path" => "/spec/patches", "value" => [parser_source_patch] }]) },
            { "target" => { "kind" => "Kustomization", "name" => "stats-tracker-operator" },
              "patch" => YAML.dump([{ "op" => "add", "path" => "/spec/patches/-",
                                      "value" => { "patch" => YAML.dump(env_patch),
                                                   "target" => { "kind" => "Deployment", "name" => "stats-tracker-operator" } } }]) }
          ] }
      end

      KUSTOMIZATIONS = %w[stats-tracker-crds stats-tracker-operator stats-tracker-samples].freeze

      def kustomizations_ready_in_order
        ready_at = KUSTOMIZATIONS.to_h do |name|
          object = nil
          @kubectl.wait("Kustomization #{name} Ready", timeout: 600, interval: 2, diagnostics: -> { flux_diagnostics(name) }) do
            object = @kubectl.json_or_nil("kustomization", name, "-n", "flux-system")
            object && @kubectl.ready?(object)
          end
          [name, Time.parse(@kubectl.condition(object, "Ready")["lastTransitionTime"])]
        end
        order = ready_at.sort_by { |_n, t| t }.map(&:first)
        raise "Ready in order #{order.join(", ")}" unless ready_at.values.each_cons(2).all? { |a, b| a <= b }

        "Ready: #{ready_at.map { |n, t| "#{n} #{t.strftime("%T")}" }.join(", ")}"
      end

      def flux_diagnostics(name)
        object = @kubectl.json_or_nil("kustomization", name, "-n", "flux-system")
        source = @kubectl.json_or_nil("ocirepository", "stats-tracker", "-n", "flux-system")
        "Kustomization: #{object&.dig("status", "conditions").to_json}\nOCIRepository: #{source&.dig("status", "conditions").to_json}"
      end
    end
  end
end
