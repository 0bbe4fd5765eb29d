# frozen_string_literal: true

require "fileutils"
require_relative "certificate_authority"

module StatsTracker
  module Testing
    module Kube
      # Every key and certificate one test cluster needs, generated fresh and written to its pki dir:
      # a serving CA and the apiserver's serving certificate, a client CA with the admin identity
      # (group system:masters) and the controller manager's identity, and the service-account
      # signing key pair the apiserver uses for TokenRequest.
      class ClusterPki
        ADMIN_USER = "stats-tracker-admin"
        CONTROLLER_MANAGER_USER = "system:kube-controller-manager"

        FILES = {
          serving_ca: "serving-ca.crt",
          apiserver_cert: "apiserver.crt",
          apiserver_key: "apiserver.key",
          client_ca: "client-ca.crt",
          service_account_key: "sa-signer.key",
          service_account_public_key: "sa-signer.pub"
        }.freeze

        attr_reader :dir, :serving_ca, :client_ca, :admin, :controller_manager

        def initialize(dir:)
          @dir = dir
          @serving_ca = CertificateAuthority.new(common_name: "stats-tracker-kube-serving-ca")
          @client_ca = CertificateAuthority.new(common_name: "stats-tracker-kube-client-ca")
          @apiserver = @serving_ca.issue_server(
            common_name: "kube-apiserver",
            dns_names: %w[localhost kubernetes kubernetes.default kubernetes.default.svc],
            ip_addresses: %w[127.0.0.1 10.0.0.1]
          )
          @admin = @client_ca.issue_client(common_name: ADMIN_USER, organizations: ["system:masters"])
          @controller_manager = @client_ca.issue_client(common_name: CONTROLLER_MANAGER_USER)
          @service_account_key = CertificateAuthority.generate_key
          write
        end

        def path(which) = File.join(dir, FILES.fetch(which))

        private

        def write
          FileUtils.mkdir_p(dir, mode: 0o700)
          contents = {
            serving_ca: @serving_ca.certificate_pem,
            apiserver_cert: @apiserver.certificate_pem,
            apiserver_key: @apiserver.key_pem,
            client_ca: @client_ca.certificate_pem,
            service_account_key: @service_account_key.private_to_pem,
            service_account_public_key: @service_account_key.public_to_pem
          }
          contents.each do |which, pem|
            File.open(path(which), File::WRONLY | File::CREAT | File::TRUNC, 0o600) { |f| f.write(pem) }
          end
        end
      end
    end
  end
end
