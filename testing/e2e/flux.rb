# frozen_string_literal: true

require "fileutils"
require_relative "../kube/components/component"
require_relative "../kube/free_port"
require_relative "node/http_probe"
require_relative "node/network"

module StatsTracker
  module E2E
    # Flux's source-controller and kustomize-controller, built from the Go module proxy
    # (testing/flux/build.sh), run as host processes with KUBECONFIG, the way envtest runs
    # controllers: they only talk to the API server, the registry and each other, so running them
    # as Pods would add two more images to build and push without testing anything of ours.
    class Flux
      BUILD = File.expand_path("../flux/build.sh", __dir__)
      NAMESPACE = "flux-system"

      # One controller process; its health endpoint says when it is up.
      class Controller < Testing::Kube::Components::Component
        include Node::HttpProbe

        def initialize(name:, binary:, kubeconfig:, flags:, log_path:)
          super(name: name, log_path: log_path, reaper: nil)
          @binary = binary
          @kubeconfig = kubeconfig
          @health_port = Testing::Kube::FreePort.pick
          @flags = flags + ["--metrics-addr=127.0.0.1:#{Testing::Kube::FreePort.pick}",
                            "--health-addr=127.0.0.1:#{@health_port}", "--enable-leader-election=false",
                            "--log-encoding=json"]
        end

        private

        # They reject --kubeconfig; env(1) execs the binary, so the PID stays the one started.
        def command = ["env", "KUBECONFIG=#{@kubeconfig}", "RUNTIME_NAMESPACE=#{NAMESPACE}", @binary, *@flags]

        def ready? = http_ok?(@health_port, "/readyz")
      end

      def self.missing_pieces
        system(BUILD, "--check", err: File::NULL) ? [] : ["Flux controllers (testing/flux/build.sh)"]
      end

      def initialize(node:)
        @node = node
      end

      def dir_of(name) = `#{BUILD} --print-dir #{name}`.strip

      def crd_files = %w[source-controller kustomize-controller].flat_map { |c| Dir.glob(File.join(dir_of(c), "crds", "*.yaml")) }

      def start
        storage_port = Testing::Kube::FreePort.pick
        storage = File.join(@node.dir, "flux-storage")
        FileUtils.mkdir_p(storage)
        crd_files.each { |f| @node.control_plane.apply_yaml(f) }
        @node.kubectl("create", "namespace", NAMESPACE)
        controllers = [
          Controller.new(name: "source-controller", binary: File.join(dir_of("source-controller"), "source-controller"),
                         kubeconfig: @node.kubeconfig_path, log_path: File.join(@node.log_dir, "source-controller.log"),
                         # On the node's address: the operator Pods download the parser's artifact
                         # from status.artifact.url, as in a cluster they would from its Service.
                         flags: ["--storage-path=#{storage}", "--storage-addr=#{Node::Network::NODE_IP}:#{storage_port}",
                                 "--storage-adv-addr=#{Node::Network::NODE_IP}:#{storage_port}"]),
          # A dependency that is not Ready yet is retried after 5 s instead of the default 30 s.
          Controller.new(name: "kustomize-controller", binary: File.join(dir_of("kustomize-controller"), "kustomize-controller"),
                         kubeconfig: @node.kubeconfig_path, log_path: File.join(@node.log_dir, "kustomize-controller.log"),
                         flags: ["--requeue-dependency=5s"])
        ]
        controllers.each do |c|
          c.start(timeout: 180)
          @node.adopt(c.process.name, c.pid)
        end
        self
      end
    end
  end
end
