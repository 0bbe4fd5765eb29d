# frozen_string_literal: true

require "json"
require "uri"

module StatsTracker
  module Operator
    module Kube
      # The calls the operator makes for one resource type, over kubeclient 4.9.3's generic entity
      # methods plus what that version lacks: server-side apply with a Hash body (optionally on
      # /status) with an explicit field manager and force flag, and a fresh bearer token per call.
      class ResourceApi
        APPLY_TYPE = "application/apply-patch+yaml"

        attr_reader :kind, :plural, :group, :version, :connection

        def initialize(connection:, kind:, plural:, group: nil, version: "v1", field_manager: "stats-tracker",
                       on_request: nil)
          @connection = connection
          @kind = kind
          @plural = plural
          @group = group
          @version = version
          @field_manager = field_manager
          @on_request = on_request || ->(_verb, _plural) {}
          @client = connection.client(group: group, version: version)
          @client.rest_client # built eagerly: kubeclient memoizes it without a lock
        end

        def api_version
          @group ? "#{@group}/#{@version}" : @version
        end

        # Returns [items, resourceVersion].
        def list(namespace: nil)
          result = call(:list) { @client.get_entities(@kind, @plural, namespace: namespace, as: :parsed_symbolized) }
          [Array(result[:items]), result.dig(:metadata, :resourceVersion)]
        end

        def get(name, namespace)
          call(:get) { @client.get_entity(@plural, name, namespace, as: :parsed_symbolized) }
        rescue Kubeclient::ResourceNotFoundError
          nil
        end

        def create(body)
          call(:create) { @client.create_entity(@kind, @plural, body) }
        end

        # PUT with metadata.resourceVersion: optimistic concurrency, 409 on a lost race.
        def update(body)
          call(:update) { @client.update_entity(@plural, body) }
        end

        def delete(name, namespace, uid: nil)
          options = uid ? { preconditions: { uid: uid }, propagationPolicy: "Background" } : {}
          call(:delete) { @client.delete_entity(@plural, name, namespace, delete_options: options) }
          true
        rescue Kubeclient::ResourceNotFoundError
          false
        end

        # Server-side apply of `body` (a Hash: apiVersion/kind are filled in). With subresource
        # "status" only the status is applied; the field manager then owns exactly what it sent.
        def apply(body, subresource: nil, force: true)
          meta = body.fetch(:metadata)
          path = resource_path(meta.fetch(:name), meta[:namespace], subresource)
          query = URI.encode_www_form(fieldManager: @field_manager, force: force)
          payload = { apiVersion: api_version, kind: @kind }.merge(body)
          response = call(subresource ? :apply_status : :apply) do
            @client.rest_client["#{path}?#{query}"].patch(JSON.generate(payload),
                                                          { "Content-Type" => APPLY_TYPE }.merge(@client.headers))
          end
          JSON.parse(response.body, symbolize_names: true)
        end

        def apply_status(name:, namespace:, status:, force: true)
          apply({ metadata: { name: name, namespace: namespace }, status: status }, subresource: "status", force: force)
        end

        def watch_url(namespace:, resource_version:, timeout_seconds:)
          base = @group ? "#{@connection.server}/apis/#{@group}/#{@version}" : "#{@connection.server}/api/#{@version}"
          path = namespace ? "#{base}/namespaces/#{namespace}/#{@plural}" : "#{base}/#{@plural}"
          query = { watch: "true", allowWatchBookmarks: "true", timeoutSeconds: timeout_seconds.to_i }
          query[:resourceVersion] = resource_version if resource_version
          URI("#{path}?#{URI.encode_www_form(query)}")
        end

        private

        def resource_path(name, namespace, subresource)
          path = namespace ? "namespaces/#{namespace}/#{@plural}/#{name}" : "#{@plural}/#{name}"
          subresource ? "#{path}/#{subresource}" : path
        end

        def call(verb)
          refresh_token
          @on_request.call(verb, @plural)
          @client.handle_exception { yield }
        end

        def refresh_token
          source = @connection.token_source
          @client.headers[:Authorization] = source.authorization if source
        end
      end
    end
  end
end
