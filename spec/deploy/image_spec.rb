# frozen_string_literal: true

require "net/http"
require "yaml"
require_relative "support/operator_image"
require_relative "support/manifests"
require_relative "support/installation"
require_relative "support/kstatus"

# The operator image as operator/image/build.sh makes it without a Docker engine (debootstrap
# base + the gem installed on top, packed by umoci), checked from the outside: commands run in
# its root filesystem mounted READ-ONLY with tmpfs where the Deployment mounts emptyDirs, as the
# image's own user with its own env and entrypoint; its OCI config against operator/Dockerfile
# and the Deployment; and the operator itself started from it with an in-cluster service-account
# identity against the real API server and the local page server.
RSpec.describe "the operator image (OCI layout from Debian packages)", image: true do
  image_class = StatsTracker::Testing::OperatorImage
  dockerfile = File.read(File.join(image_class::ROOT, "operator", "Dockerfile"))

  before(:context) do
    reason = image_class.unavailable_reason
    skip("operator image not checked in this run: #{reason}") if reason
    @image = image_class.build
  end

  let(:image) { @image }
  let(:config) { image.config.fetch("config") }
  let(:deployment) { StatsTracker::Testing::Manifests.build("base").find("Deployment", "stats-tracker-operator") }

  describe "root filesystem" do
    def run_in_image(*argv, **options)
      out, err, status = image.run(entrypoint: argv, **options)
      expect(status.success?).to be(true), "#{argv.join(' ')} exited #{status.exitstatus}:\n#{err}"
      out
    end

    it "runs the CLI" do
      expect(run_in_image("stats-tracker", "--version")).to include(StatsTracker::VERSION)
    end

    it "loads the gem with its native extension and the embedded wasmtime" do
      out = run_in_image("ruby", "-e", 'require "stats_tracker"; puts StatsTracker::VERSION, StatsTracker.wasmtime_version')
      expect(out.lines.map(&:strip)).to eq([StatsTracker::VERSION, StatsTracker.wasmtime_version])
    end

    it "parses a real page with the wasm parser as the non-root user on a read-only root" do
      fixture = "package-source-controller-2023.html"
      expected = JSON.parse(File.read(File.join(GHCR_FIXTURES, "expected.json"))).fetch(fixture)
      script = 'require "stats_tracker"; require "json"; ' \
               'print JSON.generate(StatsTracker::Parser.new.package($stdin.binmode.read).to_h)'
      out = run_in_image("ruby", "-e", script, stdin: File.binread(File.join(GHCR_FIXTURES, fixture)))
      expect(JSON.parse(out)).to eq(expected.reject { |k, _| k == "kind" })
    end

    it "starts the operator's entrypoint (--help)" do
      out, err, status = image.run("--help")
      expect(status.success?).to be(true), err
      expect(out).to include("Usage:").and include("WATCH_NAMESPACE")
    end

    it "runs as the fixed non-root user with a read-only root and writable volumes" do
      out = run_in_image("sh", "-c", 'id -u; id -g; touch /opt/probe 2>/dev/null && echo root-writable; ' \
                                     'touch "$STATS_TRACKER_CACHE_DIR/probe" /tmp/probe && echo volumes-writable')
      expect(out.lines.map(&:strip)).to eq(%w[65532 65532 volumes-writable])
    end

    it "carries no compilers, cargo or C headers" do
      tools = %w[gcc cc c++ cargo rustc ld make clang].select do |t|
        %w[usr/bin usr/local/bin].any? { |d| File.exist?(File.join(image.rootfs, d, t)) }
      end
      expect(tools).to eq([])
      expect(Dir.glob(File.join(image.rootfs, "usr/include/**/*.h"))).to eq([])
      expect(Dir.glob(File.join(image.rootfs, "var/lib/gems/*/gems/stats_tracker-*/ext"))).to eq([])
      expect(Dir.glob(File.join(image.rootfs, "var/lib/gems/*/gems/stats_tracker-*/lib/**/*.so"))).not_to be_empty
    end
  end

  describe "image config" do
    it "matches operator/Dockerfile: user, entrypoint, workdir, port, stop signal, cache dir" do
      expect(config["User"]).to eq("65532:65532")
      expect(dockerfile).to include("USER 65532:65532")
      expect(config["Entrypoint"]).to eq(["/usr/bin/ruby", "operator/operator.rb"])
      expect(dockerfile).to include('ENTRYPOINT ["/usr/bin/ruby", "operator/operator.rb"]')
      expect(config["WorkingDir"]).to eq("/opt/stats_tracker")
      expect(dockerfile).to include("WORKDIR /opt/stats_tracker")
      expect(config["ExposedPorts"].keys).to eq(["8080/tcp"])
      expect(dockerfile).to include("EXPOSE 8080")
      expect(config["StopSignal"]).to eq("SIGTERM")
      expect(dockerfile).to include("STOPSIGNAL SIGTERM")
      expect(config["Env"]).to include("STATS_TRACKER_CACHE_DIR=/var/cache/stats_tracker")
    end

    it "agrees with the Deployment: UID, port, cache volume" do
      pod = deployment.dig("spec", "template", "spec")
      container = pod["containers"].first
      expect("#{pod.dig('securityContext', 'runAsUser')}:#{pod.dig('securityContext', 'runAsGroup')}")
        .to eq(config["User"])
      expect("#{container['ports'].first['containerPort']}/tcp").to eq(config["ExposedPorts"].keys.first)
      cache = container["env"].find { |e| e["name"] == "STATS_TRACKER_CACHE_DIR" }["value"]
      expect(container["volumeMounts"].map { |m| m["mountPath"] }).to include(cache)
    end

    it "reads the same through skopeo, and the oci-archive holds the same image" do
      out, err, status = Open3.capture3("skopeo", "inspect", "--config", "oci:#{image.image_ref}")
      expect(status.success?).to be(true), err
      expect(JSON.parse(out)["config"]).to eq(config)
      archive = File.join(File.dirname(image.layout), "stats-tracker-operator.oci.tar")
      out, err, status = Open3.capture3("skopeo", "inspect", "--config",
                                        "oci-archive:#{archive}:stats-tracker-operator:#{image.tag}")
      expect(status.success?).to be(true), err
      expect(JSON.parse(out)["config"]).to eq(config)
    end
  end

  # The operator started from the image exactly as the kubelet would start the Deployment's
  # container: its env (from the built manifest), an in-cluster service-account directory with a
  # bound token of the manifests' ServiceAccount (so RBAC is the manifests' RBAC), read-only root.
  # The sample Project from operator/deploy/samples must become kstatus-Current, with every Leaf.
  describe "operator run from the image", kube: true do
    manifests = StatsTracker::Testing::Manifests
    installation = StatsTracker::Testing::DeployInstallation
    listing = %w[listing-fluxcd-page1.html listing-fluxcd-page2.html listing-fluxcd-page3.html]

    before(:context) do
      next unless @image

      @cluster = StatsTracker::Testing::KubeCluster.shared
      installation.uninstall(@cluster)
      installation.install(@cluster, "base")
    end
    after(:context) { installation.uninstall(@cluster) if @cluster }

    let(:pages) { StatsTracker::Testing::PageServer.new.start }
    let(:kubectl) { StatsTracker::Testing::DeployKubectl.new(kube) }
    let(:sa_dir) { Dir.mktmpdir("sa-") }
    let(:metrics_port) { StatsTracker::Testing::Kube::FreePort.pick }
    let(:log_path) { File.join(Dir.tmpdir, "image-operator-#{Process.pid}.log") }

    after do
      pages.stop
      FileUtils.rm_rf(sa_dir)
    end

    # The container env as the kubelet resolves it: fieldRefs filled in, the optional
    # GITHUB_TOKEN Secret absent; only the GitHub URL and the port are redirected to this host.
    def pod_env(pod_name)
      container = deployment.dig("spec", "template", "spec", "containers").first
      env = container["env"].each_with_object({}) do |e, acc|
        field = e.dig("valueFrom", "fieldRef", "fieldPath")
        acc[e["name"]] = e["value"] if e.key?("value")
        acc[e["name"]] = { "metadata.namespace" => "stats-tracker-system", "metadata.name" => pod_name }.fetch(field) if field
      end
      uri = URI(kube.api_url)
      env.merge("GITHUB_BASE_URL" => pages.base_url, "METRICS_ADDR" => "127.0.0.1:#{metrics_port}",
                "KUBERNETES_SERVICE_HOST" => uri.host, "KUBERNETES_SERVICE_PORT" => uri.port.to_s,
                # The fixtures hold ~40 packages; GitHub's default budget (1/s) would only slow the spec.
                "GITHUB_RATE" => "50", "GITHUB_BURST" => "50")
    end

    def write_service_account
      File.write(File.join(sa_dir, "token"),
                 kube.token_for(service_account: "stats-tracker-operator", namespace: "stats-tracker-system"))
      FileUtils.cp(kube.ssl_options.fetch(:ca_file), File.join(sa_dir, "ca.crt"))
      File.write(File.join(sa_dir, "namespace"), "stats-tracker-system")
    end

    def serve_fluxcd
      pages.serve_listing(owner: "fluxcd", pages: listing)
      parser = StatsTracker::Parser.new
      names = listing.flat_map { |f| parser.listing(File.binread(File.join(GHCR_FIXTURES, f))).packages.map(&:name) }
      names.each_with_index.to_h do |name, i|
        pages.serve_package(owner: "fluxcd", package: name,
                            html: StatsTracker::Testing::PageServer.package_html(total: 5000 + i))
        [name, 5000 + i]
      end
    end

    def get_json(*args)
      result = kubectl.run("get", *args, "-o", "json")
      result.success? ? JSON.parse(result.stdout) : nil
    end

    def wait_for(what, timeout: 180)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      loop do
        value = yield
        return value if value
        raise "timed out waiting for #{what}; operator log:\n#{File.read(log_path).lines.last(40).join}" if
          Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

        sleep 0.5
      end
    end

    def healthy?(path)
      Net::HTTP.get_response(URI("http://127.0.0.1:#{metrics_port}#{path}")).code == "200"
    rescue SystemCallError, IOError
      false
    end

    it "reconciles the sample Project to kstatus Current under the manifests' identity, then stops on SIGTERM" do
      counts = serve_fluxcd
      write_service_account
      pid = image.spawn(env: pod_env("stats-tracker-operator-image-spec"), service_account_dir: sa_dir, log: log_path)
      begin
        wait_for("/healthz and /readyz") { healthy?("/healthz") && healthy?("/readyz") }
        kubectl.apply!(manifests.build("samples").yaml)

        current = lambda do |o|
          StatsTracker::Testing::Kstatus.compute(o) == :current &&
            o.dig("status", "observedGeneration") == o.dig("metadata", "generation")
        end
        leaves = wait_for("one kstatus-Current Leaf per package") do
          items = get_json("-n", "stats-tracker-samples", "leaves.stats-tracker.dev")&.fetch("items")
          items if items&.size == counts.size && items.all?(&current)
        end
        expect(leaves.to_h { |l| [l.dig("spec", "package"), l.dig("status", "downloadCount")] }).to eq(counts)

        project = wait_for("the sample Project to be kstatus-Current with the sum of its Leafs") do
          p = get_json("-n", "stats-tracker-samples", "projects.stats-tracker.dev", "fluxcd")
          p if p && current.call(p) && p.dig("status", "totalDownloads") == counts.values.sum
        end
        ready = project.dig("status", "conditions").find { |c| c["type"] == "Ready" }
        expect(ready).to include("status" => "True", "observedGeneration" => project.dig("metadata", "generation"))
        expect(project.dig("status", "packageCount")).to eq(counts.size)

        lease = get_json("-n", "stats-tracker-system", "leases.coordination.k8s.io", "stats-tracker-operator")
        expect(lease.dig("spec", "holderIdentity")).to eq("stats-tracker-operator-image-spec")
      ensure
        Process.kill("TERM", pid)
        _, status = Process.wait2(pid)
      end
      expect(status.exitstatus).to eq(0), File.read(log_path).lines.last(20).join
      lease = get_json("-n", "stats-tracker-system", "leases.coordination.k8s.io", "stats-tracker-operator")
      expect(lease.dig("spec", "holderIdentity").to_s).to eq("")
    end
  end
end
