# frozen_string_literal: true

require "fileutils"
require "json"
require "net/http"
require "tmpdir"
require_relative "installation"
require_relative "kstatus"

module StatsTracker
  module Testing
    # The operator started as the Deployment would start it (its env from the built manifest,
    # the manifests' ServiceAccount token, hence the manifests' RBAC), against the real API server
    # and the local page server standing in for github.com. The including group defines
    # `start_operator(env:, log:)` -> pid, which is how the variants differ (checkout or image).
    module SampleProjectRun
      LISTING = %w[listing-fluxcd-page1.html listing-fluxcd-page2.html listing-fluxcd-page3.html].freeze
      POD_NAME = "stats-tracker-operator-deploy-spec"

      def pages = (@pages ||= PageServer.new.start)
      def kubectl = (@kubectl ||= DeployKubectl.new(kube))
      def metrics_port = (@metrics_port ||= Kube::FreePort.pick)
      def log_path = (@log_path ||= File.join(Dir.tmpdir, "deploy-operator-#{Process.pid}-#{object_id}.log"))
      def deployment = Manifests.build("base").find("Deployment", "stats-tracker-operator")

      def operator_token
        kube.token_for(service_account: "stats-tracker-operator", namespace: "stats-tracker-system")
      end

      # The container env as the kubelet resolves it: fieldRefs filled in, the optional
      # GITHUB_TOKEN Secret absent; the GitHub URL and the port point at this host, and the
      # request budget is raised (~40 fixture packages at GitHub's default 1/s would only be slow).
      def pod_env
        container = deployment.dig("spec", "template", "spec", "containers").first
        env = container["env"].each_with_object({}) do |e, acc|
          field = e.dig("valueFrom", "fieldRef", "fieldPath")
          acc[e["name"]] = e["value"] if e.key?("value")
          acc[e["name"]] = { "metadata.namespace" => "stats-tracker-system", "metadata.name" => POD_NAME }.fetch(field) if field
        end
        env.merge("GITHUB_BASE_URL" => pages.base_url, "METRICS_ADDR" => "127.0.0.1:#{metrics_port}",
                  "GITHUB_RATE" => "50", "GITHUB_BURST" => "50")
      end

      def serve_fluxcd
        pages.serve_listing(owner: "fluxcd", pages: LISTING)
        parser = StatsTracker::Parser.new
        names = LISTING.flat_map { |f| parser.listing(File.binread(File.join(GHCR_FIXTURES, f))).packages.map(&:name) }
        names.each_with_index.to_h do |name, i|
          pages.serve_package(owner: "fluxcd", package: name, html: PageServer.package_html(total: 5000 + i))
          [name, 5000 + i]
        end
      end

      def get_json(*args)
        result = kubectl.run("get", *args, "-o", "json")
        result.success? ? JSON.parse(result.stdout) : nil
      end

      def operator_log_tail = File.exist?(log_path) ? File.read(log_path).lines.last(40).join : "(no log)"

      def wait_for(what, timeout: 180)
        deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
        loop do
          value = yield
          return value if value
          raise "timed out waiting for #{what}; operator log:\n#{operator_log_tail}" if
            Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

          sleep 0.5
        end
      end

      def serving?(path)
        Net::HTTP.get_response(URI("http://127.0.0.1:#{metrics_port}#{path}")).code == "200"
      rescue SystemCallError, IOError
        false
      end

      def kstatus_current?(object)
        Kstatus.compute(object) == :current &&
          object.dig("status", "observedGeneration") == object.dig("metadata", "generation")
      end

      def lease_holder
        get_json("-n", "stats-tracker-system", "leases.coordination.k8s.io", "stats-tracker-operator")
          &.dig("spec", "holderIdentity").to_s
      end
    end
  end
end

RSpec.shared_examples "the sample Project reconciled under the manifests' identity" do
  include StatsTracker::Testing::SampleProjectRun

  before(:context) do
    cluster = StatsTracker::Testing::KubeCluster.shared
    StatsTracker::Testing::DeployInstallation.uninstall(cluster)
    StatsTracker::Testing::DeployInstallation.install(cluster, "base")
  end
  after(:context) { StatsTracker::Testing::DeployInstallation.uninstall(StatsTracker::Testing::KubeCluster.shared) }
  after { @pages&.stop }

  it "brings the sample Project and every Leaf to kstatus Current, then stops cleanly on SIGTERM" do
    counts = serve_fluxcd
    pid = start_operator(env: pod_env, log: log_path)
    begin
      wait_for("/healthz and /readyz") { serving?("/healthz") && serving?("/readyz") }
      kubectl.apply!(StatsTracker::Testing::Manifests.build("samples").yaml)

      leaves = wait_for("one kstatus-Current Leaf per package") do
        items = get_json("-n", "stats-tracker-samples", "leaves.stats-tracker.dev")&.fetch("items")
        items if items&.size == counts.size && items.all? { |l| kstatus_current?(l) }
      end
      expect(leaves.to_h { |l| [l.dig("spec", "package"), l.dig("status", "downloadCount")] }).to eq(counts)

      project = wait_for("the sample Project to be kstatus-Current with the sum of its Leafs") do
        p = get_json("-n", "stats-tracker-samples", "projects.stats-tracker.dev", "fluxcd")
        p if p && kstatus_current?(p) && p.dig("status", "totalDownloads") == counts.values.sum
      end
      ready = project.dig("status", "conditions").find { |c| c["type"] == "Ready" }
      expect(ready).to include("status" => "True")
      expect(project.dig("status", "packageCount")).to eq(counts.size)
      expect(lease_holder).to eq(StatsTracker::Testing::SampleProjectRun::POD_NAME)
    ensure
      Process.kill("TERM", pid)
      _, status = Process.wait2(pid)
    end
    expect(status.exitstatus).to eq(0), operator_log_tail
    expect(lease_holder).to eq("")
  end
end
