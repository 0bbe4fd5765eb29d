# frozen_string_literal: true

require_relative "../../kube_cluster"
require_relative "control_plane"
require_relative "network"

module StatsTracker
  module E2E
    module Node
      # The harness's control plane (etcd, kube-apiserver, kube-controller-manager) set up for a
      # cluster with a node: the API server on the node IP with a serving certificate for it and
      # for the `kubernetes` Service, the controllers pods need, and client identities for the
      # kubelet, the scheduler and kube-proxy issued by the same client CA.
      class ControlPlaneCluster < Testing::KubeCluster
        IDENTITIES = {
          node: ["system:node:stats-tracker-e2e", ["system:nodes"]],
          scheduler: ["system:kube-scheduler", []],
          proxy: ["system:kube-proxy", []],
          kubelet_client: ["kube-apiserver-kubelet-client", ["system:masters"]]
        }.freeze

        def initialize(work_dir:)
          super(work_dir: work_dir, supervise: false, controllers: CONTROLLERS)
        end

        def api_url = "https://#{Network::NODE_IP}:#{@ports.fetch(:apiserver)}"

        def kubeconfig_for(identity) = File.join(work_dir, "#{identity}.kubeconfig")

        def client_ca_path = @pki.path(:client_ca)

        def state
          super.merge("process_groups" => [@controller_manager, @apiserver, @etcd].map(&:pid).compact)
        end

        private

        def build_components
          issue_node_certificates
          super
          @apiserver = Apiserver.new(
            files: @files, binary: binaries.path("kube-apiserver"), etcd_url: @etcd.url,
            port: @ports.fetch(:apiserver), pki: @pki, connection: connection,
            log_path: File.join(log_dir, "kube-apiserver.log"), reaper: nil
          )
        end

        def write_kubeconfigs
          super
          common = { name: NAME, server: api_url, ca_pem: @pki.serving_ca.certificate_pem }
          @identities.each { |id, cert| Testing::Kube::KubeconfigWriter.write(path: kubeconfig_for(id), client: cert, **common) }
        end

        def issue_node_certificates
          serving = @pki.serving_ca.issue_server(
            common_name: "kube-apiserver",
            dns_names: %w[localhost kubernetes kubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local],
            ip_addresses: ["127.0.0.1", Network::NODE_IP, "10.0.0.1"]
          )
          @identities = IDENTITIES.transform_values { |(cn, orgs)| @pki.client_ca.issue_client(common_name: cn, organizations: orgs) }
          @files = {}
          write_pair(:apiserver, serving)
          write_pair(:kubelet_client, @identities.fetch(:kubelet_client))
        end

        def write_pair(name, cert)
          @files[:"#{name}_cert"] = File.join(@pki.dir, "#{name}.crt")
          @files[:"#{name}_key"] = File.join(@pki.dir, "#{name}.key")
          { @files[:"#{name}_cert"] => cert.certificate_pem, @files[:"#{name}_key"] => cert.key_pem }.each do |path, pem|
            File.open(path, File::WRONLY | File::CREAT | File::TRUNC, 0o600) { |f| f.write(pem) }
          end
        end
      end
    end
  end
end
