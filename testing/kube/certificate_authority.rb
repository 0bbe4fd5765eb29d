# frozen_string_literal: true

require "openssl"
require "securerandom"

module StatsTracker
  module Testing
    module Kube
      # A certificate and its private key, PEM-encodable for the Go binaries and usable as-is by Ruby clients.
      IssuedCertificate = Struct.new(:certificate, :key, keyword_init: true) do
        def certificate_pem = certificate.to_pem
        def key_pem = key.private_to_pem
      end

      # A throwaway CA for one test cluster (like envtest's TinyCA): ECDSA P-256 because it is
      # fast to generate and every component accepts it; short validity because nothing outlives the run.
      class CertificateAuthority
        VALIDITY = 7 * 24 * 3600

        attr_reader :certificate, :key

        def self.generate_key = OpenSSL::PKey::EC.generate("prime256v1")

        def initialize(common_name:)
          @key = self.class.generate_key
          @certificate = build(subject: common_name, public_key: @key, issuer: nil) do |cert, ext|
            cert.add_extension(ext.create_extension("basicConstraints", "CA:TRUE", true))
            cert.add_extension(ext.create_extension("keyUsage", "keyCertSign,cRLSign,digitalSignature", true))
            cert.add_extension(ext.create_extension("subjectKeyIdentifier", "hash", false))
          end
        end

        def certificate_pem = certificate.to_pem

        # organizations become the Kubernetes groups of a client identity (O=system:masters).
        def issue_client(common_name:, organizations: [])
          issue(common_name: common_name, organizations: organizations, usage: "clientAuth")
        end

        def issue_server(common_name:, dns_names:, ip_addresses:)
          san = dns_names.map { |d| "DNS:#{d}" } + ip_addresses.map { |ip| "IP:#{ip}" }
          issue(common_name: common_name, organizations: [], usage: "serverAuth", san: san.join(","))
        end

        private

        def issue(common_name:, organizations:, usage:, san: nil)
          leaf_key = self.class.generate_key
          subject = organizations.map { |o| ["O", o] } + [["CN", common_name]]
          cert = build(subject: subject, public_key: leaf_key, issuer: certificate) do |c, ext|
            c.add_extension(ext.create_extension("basicConstraints", "CA:FALSE", true))
            c.add_extension(ext.create_extension("keyUsage", "digitalSignature,keyEncipherment", true))
            c.add_extension(ext.create_extension("extendedKeyUsage", usage, false))
            c.add_extension(ext.create_extension("subjectAltName", san, false)) if san
          end
          IssuedCertificate.new(certificate: cert, key: leaf_key)
        end

        def build(subject:, public_key:, issuer:)
          cert = OpenSSL::X509::Certificate.new
          cert.version = 2
          cert.serial = OpenSSL::BN.new(SecureRandom.hex(16), 16)
          cert.subject = subject.is_a?(String) ? OpenSSL::X509::Name.new([["CN", subject]]) : OpenSSL::X509::Name.new(subject)
          cert.issuer = issuer ? issuer.subject : cert.subject
          cert.public_key = public_key
          now = Time.now
          cert.not_before = now - 300 # tolerate small clock differences between processes
          cert.not_after = now + VALIDITY
          ext = OpenSSL::X509::ExtensionFactory.new(issuer || cert, cert)
          yield cert, ext
          cert.sign(@key || public_key, OpenSSL::Digest.new("SHA256"))
          cert
        end
      end
    end
  end
end
