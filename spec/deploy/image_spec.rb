# frozen_string_literal: true

require "fileutils"
require "tmpdir"
require "yaml"
require "stats_tracker/parser_world"
require_relative "support/operator_image"
require_relative "support/manifests"
require_relative "support/sample_project_run"

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
               "print JSON.generate(StatsTracker::Parser.new.package($stdin.binmode.read).to_h)"
      out = run_in_image("ruby", "-e", script, stdin: File.binread(File.join(GHCR_FIXTURES, fixture)))
      expect(JSON.parse(out)).to eq(expected)
    end

    it "holds the WIT world and the self-test corpus a delivered parser is checked against" do
      script = 'require "stats_tracker"; require "stats_tracker/parser_world"; require "stats_tracker/self_test"; ' \
               "puts StatsTracker::ParserWorld.name, StatsTracker::SelfTest.run(StatsTracker::Parser.new).size"
      expect(run_in_image("ruby", "-e", script).lines.map(&:strip)).to eq([StatsTracker::ParserWorld.name, "0"])
    end

    it "starts the operator's entrypoint (--help)" do
      out, err, status = image.run("--help")
      expect(status.success?).to be(true), err
      expect(out).to include("Usage:").and include("WATCH_NAMESPACE")
    end

    it "runs as the fixed non-root user with a read-only root and writable volumes" do
      out = run_in_image("sh", "-c", "id -u; id -g; touch /opt/probe 2>/dev/null && echo root-writable; " \
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

    it "keeps the Debian base and the gem in separate layers, the gem layer the small one" do
      sizes = image.manifest["layers"].map { |l| l["size"] }
      expect(sizes.size).to eq(2)
      expect(sizes.last).to be < sizes.first
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
  describe "operator run from the image", kube: true do
    def start_operator(env:, log:)
      sa_dir = Dir.mktmpdir("sa-")
      File.write(File.join(sa_dir, "token"), operator_token)
      FileUtils.cp(kube.ssl_options.fetch(:ca_file), File.join(sa_dir, "ca.crt"))
      File.write(File.join(sa_dir, "namespace"), "stats-tracker-system")
      uri = URI(kube.api_url)
      image.spawn(env: env.merge("KUBERNETES_SERVICE_HOST" => uri.host, "KUBERNETES_SERVICE_PORT" => uri.port.to_s),
                  service_account_dir: sa_dir, log: log)
    end

    it_behaves_like "the sample Project reconciled under the manifests' identity"
  end
end
