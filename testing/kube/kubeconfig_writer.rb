# frozen_string_literal: true

require "base64"
require "yaml"

module StatsTracker
  module Testing
    module Kube
      # Writes a single-context kubeconfig with inline certificate data, so the file alone is enough
      # for kubectl, Kubeclient::Config.read and a person's shell (envtest's KubeConfigFromREST shape).
      module KubeconfigWriter
        def self.write(path:, name:, server:, ca_pem:, client: nil, token: nil)
          user = if client
                   { "client-certificate-data" => encode(client.certificate_pem),
                     "client-key-data" => encode(client.key_pem) }
                 else
                   { "token" => token }
                 end
          config = {
            "apiVersion" => "v1",
            "kind" => "Config",
            "clusters" => [{ "name" => name,
                             "cluster" => { "server" => server, "certificate-authority-data" => encode(ca_pem) } }],
            "users" => [{ "name" => name, "user" => user }],
            "contexts" => [{ "name" => name, "context" => { "cluster" => name, "user" => name } }],
            "current-context" => name
          }
          File.open(path, File::WRONLY | File::CREAT | File::TRUNC, 0o600) { |f| f.write(YAML.dump(config)) }
          path
        end

        def self.encode(pem) = Base64.strict_encode64(pem)
      end
    end
  end
end
