# frozen_string_literal: true

require_relative "../../kube/components/component"
require_relative "../../kube/components/apiserver"
require_relative "../../kube/components/controller_manager"
require_relative "http_probe"
require_relative "network"

module StatsTracker
  module E2E
    module Node
      # kube-apiserver for a cluster with a node: it listens on the node IP (so pods reach it
      # through the `kubernetes` Service that kube-proxy maps there), authorizes kubelets with the
      # Node authorizer, reaches them with a client certificate by InternalIP, and lets the
      # ServiceAccount admission plugin mount projected tokens into pods.
      class Apiserver < Testing::Kube::Components::Apiserver
        def initialize(files:, **rest)
          super(**rest)
          @files = files
        end

        def url = "https://#{Network::NODE_IP}:#{@port}"

        private

        def command
          flags = super.reject do |f|
            f.start_with?("--bind-address", "--advertise-address", "--authorization-mode", "--disable-admission-plugins",
                          "--endpoint-reconciler-type", "--tls-cert-file", "--tls-private-key-file", "--service-account-issuer")
          end
          flags + ["--bind-address=#{Network::NODE_IP}", "--advertise-address=#{Network::NODE_IP}",
                   "--tls-cert-file=#{@files.fetch(:apiserver_cert)}", "--tls-private-key-file=#{@files.fetch(:apiserver_key)}",
                   "--service-account-issuer=https://kubernetes.default.svc",
                   "--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
                   "--kubelet-client-certificate=#{@files.fetch(:kubelet_client_cert)}",
                   "--kubelet-client-key=#{@files.fetch(:kubelet_client_key)}",
                   "--kubelet-preferred-address-types=InternalIP"]
        end
      end

      # The controllers a Deployment, its pods' service-account token volumes, a PodDisruptionBudget's
      # status and Services' EndpointSlices need, on top of the harness's garbage collector and
      # namespace controller; the node lifecycle controller lifts the not-ready taint the kubelet
      # registers the node with, without which nothing is ever scheduled.
      CONTROLLERS = %w[garbage-collector-controller namespace-controller deployment-controller replicaset-controller
                       serviceaccount-controller root-ca-certificate-publisher-controller endpointslice-controller
                       endpoints-controller disruption-controller node-lifecycle-controller].freeze

      # kube-scheduler with its own identity (system:kube-scheduler has a default ClusterRoleBinding).
      class Scheduler < Testing::Kube::Components::Component
        include HttpProbe

        def initialize(binary:, kubeconfig_path:, port:, log_path:)
          super(name: "kube-scheduler", log_path: log_path, reaper: nil)
          @binary = binary
          @kubeconfig_path = kubeconfig_path
          @port = port
        end

        private

        def command
          [@binary, "--kubeconfig=#{@kubeconfig_path}", "--leader-elect=false", "--bind-address=127.0.0.1",
           "--secure-port=#{@port}", "--authentication-kubeconfig=#{@kubeconfig_path}",
           "--authorization-kubeconfig=#{@kubeconfig_path}"]
        end

        def ready? = https_ok?(@port, "/healthz")
      end
    end
  end
end
