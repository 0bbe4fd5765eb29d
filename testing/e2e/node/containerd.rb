# frozen_string_literal: true

require "fileutils"
require_relative "../../kube/components/component"
require_relative "network"

module StatsTracker
  module E2E
    module Node
      # Debian's containerd with a root, state, socket and CNI config of its own (nothing under the
      # host's /var/lib/containerd or /etc/containerd), cgroupfs, and the local registry reachable
      # over plain HTTP. restrict_oom_score_adj: root here lacks CAP_SYS_RESOURCE, so runc cannot
      # lower a container's oom_score_adj and every sandbox would fail to start without it.
      class Containerd < Testing::Kube::Components::Component
        attr_reader :socket

        def initialize(dir:, registry:, pause_image:, log_path:)
          super(name: "containerd", log_path: log_path, reaper: nil)
          @dir = dir
          @registry = registry
          @pause_image = pause_image
          @socket = File.join(dir, "containerd.sock")
        end

        def endpoint = "unix://#{socket}"

        def cni_conf_dir = File.join(@dir, "net.d")

        def start(timeout:)
          write_config
          super
        end

        # runc's state for the CRI namespace: container processes to kill when tearing down by force.
        def runc_root = "/run/containerd/runc/k8s.io"

        private

        def command = ["containerd", "--config", config_path]

        def ready? = File.socket?(socket) && system("ctr", "--address", socket, "version", out: File::NULL, err: File::NULL)

        def config_path = File.join(@dir, "config.toml")

        def write_config
          FileUtils.mkdir_p([cni_conf_dir, File.join(@dir, "certs.d", @registry), File.join(@dir, "ipam")])
          File.write(File.join(cni_conf_dir, "10-#{Network::NAME}.conflist"),
                     JSON.pretty_generate(Network.conflist(ipam_dir: File.join(@dir, "ipam"))))
          File.write(File.join(@dir, "certs.d", @registry, "hosts.toml"), <<~TOML)
            server = "http://#{@registry}"
            [host."http://#{@registry}"]
              capabilities = ["pull", "resolve"]
          TOML
          File.write(config_path, <<~TOML)
            version = 2
            root = "#{File.join(@dir, "root")}"
            state = "#{File.join(@dir, "state")}"
            [grpc]
              address = "#{socket}"
            [ttrpc]
              address = "#{socket}.ttrpc"
            [plugins."io.containerd.internal.v1.opt"]
              path = "#{File.join(@dir, "opt")}"
            [plugins."io.containerd.grpc.v1.cri"]
              sandbox_image = "#{@pause_image}"
              restrict_oom_score_adj = true
              enable_selinux = false
              [plugins."io.containerd.grpc.v1.cri".cni]
                bin_dir = "/usr/lib/cni"
                conf_dir = "#{cni_conf_dir}"
              [plugins."io.containerd.grpc.v1.cri".containerd]
                snapshotter = "overlayfs"
                default_runtime_name = "runc"
                [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
                  runtime_type = "io.containerd.runc.v2"
                  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
                    SystemdCgroup = false
              [plugins."io.containerd.grpc.v1.cri".registry]
                config_path = "#{File.join(@dir, "certs.d")}"
          TOML
        end
      end
    end
  end
end
