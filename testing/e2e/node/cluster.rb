# frozen_string_literal: true

require "fileutils"
require "json"
require "open3"
require_relative "containerd"
require_relative "control_plane_cluster"
require_relative "host_state"
require_relative "kubelet"
require_relative "network"
require_relative "../../kube/process_group"
require_relative "registry"

module StatsTracker
  module E2E
    module Node
      class MissingPieceError < StandardError; end

      # A single-node cluster on this machine: the harness's control plane on the node IP, a local
      # registry, containerd, the kubelet, kube-scheduler and kube-proxy. `up` records the host
      # state first and every PID it starts in state.json; `down` (this process or another) stops
      # exactly those PIDs and restores the host. Only one node per machine (the kubelet's ports
      # and device-plugin socket are fixed), enforced by a lock file.
      class Cluster
        START_TIMEOUT = 180
        NODE_BIN = File.expand_path("../../kube/build-node.sh", __dir__)
        PAUSE_BUILD = File.expand_path("../pause/build.sh", __dir__)
        TOOLS = %w[containerd runc ctr docker-registry skopeo umoci iptables ip gcc].freeze
        CNI_PLUGINS = %w[bridge host-local loopback].freeze

        attr_reader :dir, :control_plane, :registry

        def initialize(dir:)
          @dir = dir
          @extra_pids = []
        end

        def state_path = File.join(dir, "state.json")

        def host_state = HostState.new(path: File.join(dir, "host-state.json"))

        def log_dir = File.join(dir, "logs")

        def kubeconfig_path = File.join(dir, "control-plane", "kubeconfig")

        def self.missing_pieces
          missing = TOOLS.reject { |t| system("command -v #{t} >/dev/null 2>&1") }.map { |t| "command #{t} (bin/setup --e2e)" }
          missing += CNI_PLUGINS.reject { |p| File.executable?("/usr/lib/cni/#{p}") }.map { |p| "CNI plugin /usr/lib/cni/#{p}" }
          missing << "node binaries (testing/kube/build-node.sh)" unless system(NODE_BIN, "--check")
          missing << "root (the node changes host state)" unless Process.uid.zero?
          missing
        end

        # Refusals come first, outside the rescue below: they must not tear down a node already up.
        def up
          missing = self.class.missing_pieces
          raise MissingPieceError, "cannot start the node, missing: #{missing.join("; ")}" unless missing.empty?
          raise MissingPieceError, "a node is already up (#{state_path}); run `bin/e2e node down`" if File.exist?(state_path)

          start
        end

        def start
          FileUtils.mkdir_p(log_dir)
          host_state.record(cgroup_root: Kubelet::CGROUP_ROOT)
          save_state
          Network.up
          start_registry
          start_control_plane
          start_runtime
          start_node
          self
        rescue StandardError
          down
          raise
        end
        private :start

        # Every step is attempted; what could not be undone is returned (and printed by bin/e2e).
        def down
          state = File.exist?(state_path) ? JSON.parse(File.read(state_path)) : { "pids" => [] }
          problems = []
          drain_pods(state) if state["kubeconfig"] && File.exist?(state["kubeconfig"].to_s)
          state.fetch("pids").reverse_each do |entry|
            kill_containers(entry["socket"]) if entry["name"] == "containerd"
            Testing::Kube::ProcessGroup.stop(entry["pid"], grace: entry["name"] == "kube-apiserver" ? 3 : 15)
          end
          problems.concat(kill_shims(state.fetch("pids")))
          if host_state.recorded?
            problems.concat(host_state.restore(own_paths: [dir]))
            Network.down
            problems.concat(host_state.differences)
          end
          keep_logs
          FileUtils.rm_rf(dir) if problems.empty?
          problems
        end

        # The last run's logs outlive its work dir, for reading after a failure.
        def kept_log_dir = "#{dir}-logs"

        # Processes started outside the node (Flux controllers, port forwards) that `down` must stop too.
        def adopt(name, pid)
          @extra_pids << { "name" => name, "pid" => pid }
          save_state
        end

        def node_binary(name) = File.join(`#{NODE_BIN} --print-dir`.strip, name)

        def kubectl(*args, stdin: nil)
          out, err, status = Open3.capture3({ "KUBECONFIG" => kubeconfig_path }, control_plane.binaries.path("kubectl"),
                                            *args.map(&:to_s), stdin_data: stdin.to_s)
          [out, err, status]
        end

        private

        def keep_logs
          return unless File.directory?(log_dir)

          FileUtils.rm_rf(kept_log_dir)
          FileUtils.cp_r(log_dir, kept_log_dir)
          control_plane_logs = File.join(dir, "control-plane", "logs")
          FileUtils.cp(Dir.glob(File.join(control_plane_logs, "*.log")), kept_log_dir) if File.directory?(control_plane_logs)
        end

        def save_state
          pids = []
          pids << { "name" => "docker-registry", "pid" => @registry.pid } if @registry&.pid
          if @control_plane
            pids.concat(@control_plane.state.fetch("process_groups").reverse.zip(%w[etcd kube-apiserver kube-controller-manager])
                                        .map { |pid, name| { "name" => name, "pid" => pid } })
          end
          pids << { "name" => "containerd", "pid" => @containerd.pid, "socket" => @containerd.socket } if @containerd&.pid
          [@kubelet, @scheduler, @proxy].compact.each { |c| pids << { "name" => c.process.name, "pid" => c.pid } if c.pid }
          pids.concat(@extra_pids)
          File.write(state_path, JSON.pretty_generate("dir" => dir, "pids" => pids,
                                                      "kubeconfig" => @control_plane && kubeconfig_path,
                                                      "registry" => @registry&.address))
        end

        def start_registry
          @registry = Registry.new(dir: File.join(dir, "registry"), log_path: File.join(log_dir, "registry.log"))
          @registry.start(timeout: START_TIMEOUT)
          save_state
          @pause_ref = "#{@registry.address}/pause:#{push_pause}"
        end

        def push_pause
          out, err, status = Open3.capture3(PAUSE_BUILD)
          raise MissingPieceError, "pause image build failed: #{err}" unless status.success?

          layout_ref = out.strip
          tag = layout_ref.split(":").last
          @registry.push_layout(layout_ref, repository: "pause", tag: tag)
          tag
        end

        def start_control_plane
          @control_plane = ControlPlaneCluster.new(work_dir: File.join(dir, "control-plane"))
          @control_plane.start
          save_state
        end

        def start_runtime
          @containerd = Containerd.new(dir: File.join(dir, "containerd"), registry: @registry.address,
                                       pause_image: @pause_ref, log_path: File.join(log_dir, "containerd.log"))
          @containerd.start(timeout: START_TIMEOUT)
          save_state
        end

        def start_node
          @kubelet = Kubelet.new(binary: node_binary("kubelet"), dir: File.join(dir, "kubelet"),
                                 kubeconfig_path: @control_plane.kubeconfig_for(:node),
                                 client_ca_path: @control_plane.client_ca_path, runtime_endpoint: @containerd.endpoint,
                                 log_path: File.join(log_dir, "kubelet.log"))
          @scheduler = Scheduler.new(binary: node_binary("kube-scheduler"), kubeconfig_path: @control_plane.kubeconfig_for(:scheduler),
                                     port: Testing::Kube::FreePort.pick, log_path: File.join(log_dir, "kube-scheduler.log"))
          @proxy = KubeProxy.new(binary: node_binary("kube-proxy"), dir: File.join(dir, "kube-proxy"),
                                 kubeconfig_path: @control_plane.kubeconfig_for(:proxy),
                                 healthz_port: Testing::Kube::FreePort.pick, metrics_port: Testing::Kube::FreePort.pick,
                                 log_path: File.join(log_dir, "kube-proxy.log"))
          [@kubelet, @scheduler, @proxy].each do |component|
            component.start(timeout: START_TIMEOUT)
            save_state
          end
          wait_node_ready
        end

        def wait_node_ready
          Testing::Kube::Wait.until("node #{Kubelet::NODE_NAME} Ready", timeout: START_TIMEOUT, interval: 0.5,
                                                                        diagnostics: lambda {
                                                                                       File.read(File.join(log_dir, "kubelet.log")).lines.last(30).join
                                                                                     }) do
            out, _err, status = kubectl("get", "node", Kubelet::NODE_NAME, "-o",
                                        "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}")
            status.success? && out.strip == "True"
          end
        end

        # While the kubelet still runs, remove the workloads so it stops their sandboxes through
        # the CRI (which runs the CNI DEL and removes each pod's network namespace).
        def drain_pods(state)
          return unless state.fetch("pids").any? { |e| e["name"] == "kubelet" && Testing::Kube::ProcessGroup.alive?(e["pid"]) }

          @kubeconfig_override = state["kubeconfig"]
          kubectl_with(state, "delete", "deployments,replicasets,daemonsets,statefulsets,jobs", "--all", "--all-namespaces",
                       "--wait=false", "--request-timeout=20s")
          kubectl_with(state, "delete", "pods", "--all", "--all-namespaces", "--grace-period=5", "--timeout=60s",
                       "--request-timeout=70s")
        end

        def kubectl_with(state, *args)
          kubectl_bin = Testing::Kube::Binaries.locate.path("kubectl")
          Open3.capture3({ "KUBECONFIG" => state["kubeconfig"] }, kubectl_bin, *args)
        rescue StandardError => e
          warn "e2e node down: kubectl #{args.first(2).join(" ")}: #{e.message}"
        end

        # What the drain did not stop: kill and delete the remaining CRI tasks and containers.
        def kill_containers(socket)
          return unless socket && File.socket?(socket)

          ctr = ["ctr", "--address", socket, "--namespace", "k8s.io"]
          tasks, = Open3.capture3(*ctr, "tasks", "ls", "-q")
          tasks.split.each do |id|
            Open3.capture3(*ctr, "tasks", "kill", "--all", "--signal", "SIGKILL", id)
            Open3.capture3(*ctr, "tasks", "delete", "--force", id)
          end
          containers, = Open3.capture3(*ctr, "containers", "ls", "-q")
          containers.split.each { |id| Open3.capture3(*ctr, "containers", "delete", id) }
        end

        # containerd's shims outlive containerd by design; ours name our socket on their command line.
        def kill_shims(pids)
          socket = pids.find { |e| e["name"] == "containerd" }&.fetch("socket", nil)
          return [] unless socket

          Dir.glob("/proc/[0-9]*/cmdline").filter_map do |f|
            cmd = File.read(f).split("\0")
            next unless cmd.first.to_s.end_with?("containerd-shim-runc-v2") && cmd.include?(socket)

            pid = Integer(f.split("/")[2])
            Process.kill("KILL", pid)
            nil
          rescue Errno::ESRCH, Errno::ENOENT
            nil
          rescue SystemCallError => e
            "shim #{f}: #{e.message}"
          end
        end
      end
    end
  end
end
