# frozen_string_literal: true

require "fileutils"
require "yaml"
require_relative "../../kube/components/component"
require_relative "http_probe"
require_relative "network"

module StatsTracker
  module E2E
    module Node
      # The kubelet, set up for this machine kind: cgroup v1 accepted, cgroupfs under a cgroup root
      # of its own (created in each v1 hierarchy before it starts, removed at teardown), no swap
      # check, kernel defaults left alone (it would refuse the host's overcommit and panic values),
      # eviction and image GC that do not fire on a small shared disk, and the bridge IP as node IP.
      class Kubelet < Testing::Kube::Components::Component
        include HttpProbe

        NODE_NAME = "stats-tracker-e2e"
        CGROUP_ROOT = "stats-tracker-e2e"
        HEALTHZ_PORT = 10_248

        def initialize(binary:, dir:, kubeconfig_path:, client_ca_path:, runtime_endpoint:, log_path:)
          super(name: "kubelet", log_path: log_path, reaper: nil)
          @binary = binary
          @dir = dir
          @kubeconfig_path = kubeconfig_path
          @client_ca_path = client_ca_path
          @runtime_endpoint = runtime_endpoint
        end

        def root_dir = File.join(@dir, "root")

        def start(timeout:)
          FileUtils.mkdir_p([root_dir, File.join(@dir, "certs")])
          self.class.cgroup_hierarchies.each { |h| FileUtils.mkdir_p(File.join(h, CGROUP_ROOT)) }
          File.write(config_path, YAML.dump(config))
          super
        end

        def self.cgroup_hierarchies
          Dir.glob("/sys/fs/cgroup/*").select { |d| File.directory?(d) && !File.symlink?(d) && d != "/sys/fs/cgroup/unified" }
        end

        private

        def config_path = File.join(@dir, "kubelet.yaml")

        def config
          { "apiVersion" => "kubelet.config.k8s.io/v1beta1", "kind" => "KubeletConfiguration",
            "cgroupDriver" => "cgroupfs", "cgroupRoot" => "/#{CGROUP_ROOT}", "failCgroupV1" => false,
            "failSwapOn" => false, "protectKernelDefaults" => false,
            "authentication" => { "anonymous" => { "enabled" => false }, "webhook" => { "enabled" => true },
                                  "x509" => { "clientCAFile" => @client_ca_path } },
            "authorization" => { "mode" => "Webhook" },
            "healthzBindAddress" => "127.0.0.1", "healthzPort" => HEALTHZ_PORT, "readOnlyPort" => 0,
            "address" => Network::NODE_IP,
            "evictionHard" => { "memory.available" => "100Mi", "nodefs.available" => "1%", "imagefs.available" => "1%",
                                "nodefs.inodesFree" => "1%" },
            "imageGCHighThresholdPercent" => 100, "imageGCLowThresholdPercent" => 99,
            "containerRuntimeEndpoint" => @runtime_endpoint,
            "resolvConf" => "/etc/resolv.conf", "serializeImagePulls" => false }
        end

        def command
          [@binary, "--config=#{config_path}", "--kubeconfig=#{@kubeconfig_path}", "--root-dir=#{root_dir}",
           "--cert-dir=#{File.join(@dir, "certs")}", "--hostname-override=#{NODE_NAME}", "--node-ip=#{Network::NODE_IP}",
           "--v=1"]
        end

        def ready? = http_ok?(HEALTHZ_PORT, "/healthz")
      end

      # kube-proxy in iptables mode, so pods reach the API server through the `kubernetes` Service's
      # ClusterIP, which is what an in-cluster client (the operator) is given. Conntrack sizing and
      # localhost NodePorts are off: both would change host sysctls for nothing this node needs.
      class KubeProxy < Testing::Kube::Components::Component
        include HttpProbe

        def initialize(binary:, dir:, kubeconfig_path:, healthz_port:, metrics_port:, log_path:)
          super(name: "kube-proxy", log_path: log_path, reaper: nil)
          @binary = binary
          @dir = dir
          @kubeconfig_path = kubeconfig_path
          @healthz_port = healthz_port
          @metrics_port = metrics_port
        end

        def start(timeout:)
          FileUtils.mkdir_p(@dir)
          File.write(config_path, YAML.dump(config))
          super
        end

        private

        def config_path = File.join(@dir, "kube-proxy.yaml")

        def config
          { "apiVersion" => "kubeproxy.config.k8s.io/v1alpha1", "kind" => "KubeProxyConfiguration",
            "clientConnection" => { "kubeconfig" => @kubeconfig_path }, "mode" => "iptables",
            "hostnameOverride" => Kubelet::NODE_NAME, "clusterCIDR" => Network::POD_SUBNET,
            "bindAddress" => Network::NODE_IP,
            "healthzBindAddress" => "127.0.0.1:#{@healthz_port}", "metricsBindAddress" => "127.0.0.1:#{@metrics_port}",
            "conntrack" => { "maxPerCore" => 0, "min" => 0, "tcpEstablishedTimeout" => "0s", "tcpCloseWaitTimeout" => "0s" },
            "iptables" => { "localhostNodePorts" => false, "masqueradeAll" => false },
            "nodePortAddresses" => ["#{Network::NODE_IP}/32"] }
        end

        def command = [@binary, "--config=#{config_path}", "--v=1"]

        def ready? = http_ok?(@healthz_port, "/healthz")
      end
    end
  end
end
