# frozen_string_literal: true

require "erb"
require "yaml"
require_relative "api_connection"

module StatsTracker
  module Testing
    module Kube
      # Server-side apply of arbitrary manifests (CRDs, RBAC, custom resources) by PATCH with
      # application/apply-patch+yaml, the way `kubectl apply --server-side` does it. The resource path
      # comes from API discovery, so any kind the server serves works, including freshly added CRDs.
      class ServerSideApply
        def initialize(connection:, field_manager:, force:)
          @connection = connection
          @field_manager = field_manager
          @force = force
          @discovery = {}
        end

        # Returns the objects as the server stored them.
        def apply(documents, namespace: nil)
          documents.map { |doc| apply_one(doc, namespace) }
        end

        def self.parse(yaml)
          YAML.load_stream(yaml).compact.flat_map do |doc|
            raise ArgumentError, "manifest document is not a mapping: #{doc.inspect[0, 80]}" unless doc.is_a?(Hash)

            doc["kind"].to_s.end_with?("List") && doc.key?("items") ? doc["items"] : [doc]
          end
        end

        private

        def apply_one(doc, namespace)
          api_version, kind = doc.values_at("apiVersion", "kind")
          name = doc.dig("metadata", "name")
          unless api_version && kind && name
            raise ArgumentError,
                  "manifest needs apiVersion, kind and metadata.name: #{doc.inspect[0, 120]}"
          end

          resource = resource_for(api_version, kind)
          ns = doc.dig("metadata", "namespace") || namespace
          raise ArgumentError, "#{kind}/#{name} is namespaced; give a namespace" if resource["namespaced"] && ns.nil?

          scope = resource["namespaced"] ? "/namespaces/#{ns}" : ""
          query = "fieldManager=#{ERB::Util.url_encode(@field_manager)}#{"&force=true" if @force}"
          path = "#{group_path(api_version)}#{scope}/#{resource["name"]}/#{ERB::Util.url_encode(name)}?#{query}"
          res = @connection.apply(path, doc)
          raise ApiError.new("server-side apply of #{kind}/#{name} failed", status: res.status, body: res.body) unless res.success?

          res.json
        end

        def group_path(api_version) = api_version.include?("/") ? "/apis/#{api_version}" : "/api/#{api_version}"

        # Rediscover on a miss: the kind may belong to a CRD applied moments ago.
        def resource_for(api_version, kind)
          found = discovered(api_version).find { |r| r["kind"] == kind && !r["name"].include?("/") }
          unless found
            @discovery.delete(api_version)
            found = discovered(api_version).find { |r| r["kind"] == kind && !r["name"].include?("/") }
          end
          raise ArgumentError, "the server does not serve kind #{kind} in #{api_version}" unless found

          found
        end

        def discovered(api_version)
          @discovery[api_version] ||= begin
            res = @connection.get(group_path(api_version))
            res.success? ? res.json.fetch("resources", []) : []
          end
        end
      end
    end
  end
end
