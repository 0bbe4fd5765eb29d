# frozen_string_literal: true

require "securerandom"
require_relative "api_connection"
require_relative "server_side_apply"
require_relative "wait"

module StatsTracker
  module Testing
    module Kube
      # What specs and the demo do to a running cluster beyond plain kubeclient calls: apply
      # manifests, wait for CRDs, make and remove namespaces, mint ServiceAccount tokens.
      # Needs #connection (admin ApiConnection) and #kubectl from the including class.
      module ClusterApi
        FIELD_MANAGER = "stats-tracker-tests"

        # Server-side apply of one or more YAML documents (a path, a kustomize directory or a string).
        # CRDs in the input are waited for until Established and served, so their kinds can follow.
        def apply_yaml(path_or_string, namespace: nil, field_manager: FIELD_MANAGER, force: true)
          documents = ServerSideApply.parse(read_manifests(path_or_string))
          applier = ServerSideApply.new(connection: connection, field_manager: field_manager, force: force)
          documents.map do |doc|
            applied = applier.apply([doc], namespace: namespace).first
            wait_for_crd(applied.dig("metadata", "name")) if doc["kind"] == "CustomResourceDefinition"
            applied
          end
        end

        def wait_for_crd(name, timeout: 30)
          crd = Wait.until("CRD #{name} to be Established", timeout: timeout) do
            res = connection.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/#{name}")
            body = res.success? ? res.json : {}
            established = (body.dig("status", "conditions") || []).any? do |c|
              c["type"] == "Established" && c["status"] == "True"
            end
            established && body
          end
          wait_until_served(crd)
          crd
        end

        def create_namespace(prefix = "spec")
          base = prefix.to_s.downcase.gsub(/[^a-z0-9-]+/, "-").gsub(/\A-+|-+\z/, "")[0, 40]
          base = "spec" if base.empty?
          name = "#{base}-#{SecureRandom.hex(3)}"
          res = connection.post("/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: name } })
          raise ApiError.new("creating namespace #{name}", status: res.status, body: res.body) unless res.success?

          name
        end

        # The namespace controller empties and removes it in the background; wait: true blocks until it is gone.
        def delete_namespace(name, wait: false, timeout: 60)
          res = connection.delete("/api/v1/namespaces/#{name}")
          unless res.success? || res.status == 404
            raise ApiError.new("deleting namespace #{name}", status: res.status, body: res.body)
          end
          return name unless wait

          Wait.until("namespace #{name} to be removed", timeout: timeout, interval: 0.25) do
            connection.get("/api/v1/namespaces/#{name}").status == 404
          end
          name
        end

        # A bearer token for a ServiceAccount (created if missing) from the TokenRequest API, signed by
        # the apiserver's service-account key: the same kind of token a pod would get projected.
        def token_for(service_account:, namespace:, expiration_seconds: 3600, audiences: nil)
          sa = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: service_account, namespace: namespace } }
          created = connection.post("/api/v1/namespaces/#{namespace}/serviceaccounts", sa)
          unless created.success? || created.status == 409
            raise ApiError.new("creating ServiceAccount #{namespace}/#{service_account}", status: created.status,
                                                                                          body: created.body)
          end
          spec = { expirationSeconds: expiration_seconds }
          spec[:audiences] = audiences if audiences
          res = connection.post("/api/v1/namespaces/#{namespace}/serviceaccounts/#{service_account}/token",
                                { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: spec })
          raise ApiError.new("TokenRequest for #{service_account}", status: res.status, body: res.body) unless res.success?

          res.json.dig("status", "token")
        end

        private

        def read_manifests(path_or_string)
          source = path_or_string.to_s
          return source if source.include?("\n")
          return File.read(source) if File.file?(source)
          raise ArgumentError, "no such manifest file or directory: #{source}" unless File.directory?(source)

          out, status = kubectl("kustomize", source)
          raise ArgumentError, "kubectl kustomize #{source} failed: #{last_kubectl_stderr}" unless status.success?

          out
        end

        # Established can precede the group/version appearing in discovery by a moment; clients that
        # discover (kubeclient's get_<kind>) would 404 in that gap. After that, the kind's storage and
        # watch cache are built on first use, and lists answer 429 "storage is (re)initializing" until
        # the cache's first list completes; a restarted apiserver rebuilds them the same way.
        def wait_until_served(crd, timeout: 30)
          group = crd.dig("spec", "group")
          plural = crd.dig("spec", "names", "plural")
          crd.dig("spec", "versions").select { |v| v["served"] }.each do |version|
            Wait.until("#{plural}.#{group}/#{version["name"]} in discovery", timeout: timeout) do
              res = connection.get("/apis/#{group}/#{version["name"]}")
              res.success? && res.json.fetch("resources", []).any? { |r| r["name"] == plural }
            end
            Wait.until("#{plural}.#{group}/#{version["name"]} storage to list", timeout: timeout) do
              connection.get("/apis/#{group}/#{version["name"]}/#{plural}?limit=1").status == 200
            end
          end
        end
      end
    end
  end
end
