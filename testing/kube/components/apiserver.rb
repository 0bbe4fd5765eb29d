# frozen_string_literal: true

require_relative "component"

module StatsTracker
  module Testing
    module Kube
      module Components
        # kube-apiserver with envtest's flag set (controller-runtime controlplane/apiserver.go): loopback
        # secure port, RBAC, client-certificate authentication, a service-account signing key pair (so
        # TokenRequest works), and ServiceAccount admission off because no controller creates the
        # `default` ServiceAccount in each namespace.
        class Apiserver < Component
          def initialize(binary:, etcd_url:, port:, pki:, connection:, log_path:, reaper:)
            super(name: "kube-apiserver", log_path: log_path, reaper: reaper)
            @binary = binary
            @etcd_url = etcd_url
            @port = port
            @pki = pki
            @connection = connection
          end

          def url = "https://127.0.0.1:#{@port}"

          # On TERM the apiserver stops listening at once, then waits up to its fixed 60 s shutdown
          # timeout for open watches on custom resources (the controller manager's) that never end by
          # themselves. Everything it acknowledged is already in etcd, so KILL after a short grace
          # loses nothing and keeps a restart at a few seconds instead of a minute.
          def stop_grace = 3

          private

          def command
            [@binary,
             "--etcd-servers=#{@etcd_url}",
             "--bind-address=127.0.0.1",
             "--advertise-address=127.0.0.1",
             "--secure-port=#{@port}",
             "--tls-cert-file=#{@pki.path(:apiserver_cert)}",
             "--tls-private-key-file=#{@pki.path(:apiserver_key)}",
             "--client-ca-file=#{@pki.path(:client_ca)}",
             "--service-account-issuer=#{url}/",
             "--service-account-key-file=#{@pki.path(:service_account_public_key)}",
             "--service-account-signing-key-file=#{@pki.path(:service_account_key)}",
             "--service-cluster-ip-range=10.0.0.0/24",
             "--allow-privileged=true",
             "--authorization-mode=RBAC",
             "--disable-admission-plugins=ServiceAccount",
             # The in-cluster `kubernetes` Service would point at 127.0.0.1, which Endpoints reject;
             # nothing here runs pods, so the reconciler only adds log noise.
             "--endpoint-reconciler-type=none"]
          end

          def ready?
            probe do
              res = @connection.get("/readyz")
              res.status == 200 && res.body.strip == "ok"
            end
          end
        end
      end
    end
  end
end
