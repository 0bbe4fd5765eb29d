# frozen_string_literal: true

require "net/http"
require "openssl"
require_relative "component"

module StatsTracker
  module Testing
    module Kube
      module Components
        # kube-controller-manager limited to the controllers that make ownership real: the garbage
        # collector (owner deleted -> dependents deleted) and the namespace controller (a deleted
        # namespace is emptied and goes away instead of staying Terminating, as it would under envtest).
        # Each controller authenticates as its own ServiceAccount through TokenRequest, as in a cluster,
        # starting from the controller manager's client certificate (system:kube-controller-manager).
        class ControllerManager < Component
          CONTROLLERS = %w[garbage-collector-controller namespace-controller].freeze

          def initialize(binary:, kubeconfig_path:, port:, cert_dir:, log_path:, reaper:, controllers: CONTROLLERS)
            super(name: "kube-controller-manager", log_path: log_path, reaper: reaper)
            @binary = binary
            @kubeconfig_path = kubeconfig_path
            @port = port
            @cert_dir = cert_dir
            @controllers = controllers
          end

          private

          def command
            [@binary,
             "--kubeconfig=#{@kubeconfig_path}",
             "--controllers=#{@controllers.join(",")}",
             "--use-service-account-credentials=true",
             "--leader-elect=false",
             "--bind-address=127.0.0.1",
             "--secure-port=#{@port}",
             "--cert-dir=#{@cert_dir}"]
          end

          # /healthz is on the always-allowed paths, and the serving certificate is self-generated.
          def ready?
            probe do
              http = Net::HTTP.new("127.0.0.1", @port)
              http.use_ssl = true
              http.verify_mode = OpenSSL::SSL::VERIFY_NONE
              http.open_timeout = 2
              http.read_timeout = 2
              res = http.start { |h| h.get("/healthz") }
              res.code == "200"
            end
          end
        end
      end
    end
  end
end
