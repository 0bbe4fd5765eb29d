# frozen_string_literal: true

require "json"
require "uri"
require_relative "write_fence"

module StatsTracker
  module Operator
    module Kube
      # The calls the operator makes for one resource type, over kubeclient 4.9.3's generic entity
      # methods plus what that version lacks: server-side apply with a Hash body (optionally on
      # /status) with an explicit field manager and force flag, and a fresh bearer token per call.
      #
      # Every worker thread shares one ResourceApi, so a client's headers are never changed once
      # it exists: a rotated token gets a new client. `fence`, when given, is asked before every
      # write; a write it refuses raises NotPermitted (a replica that is no longer leader).
      class ResourceApi
        APPLY_TYPE = "application/apply-patch+yaml"
        NotPermitted = WriteFence::NotPermitted

        attr_reader :kind, :plural, :group, :version, :connection

        def initialize(connection:, kind:, plural:, group: nil, version: "v1", field_manager: "stats-tracker",
                       on_request: nil, timeouts: nil, fence: nil)
          @connection = connection
          @kind = kind
          @plural = plural
          @group = group
          @version = version
          @field_manager = field_manager
          @on_request = on_request || ->(_verb, _plural) {}
          @timeouts = timeouts
          @fence = fence && WriteFence.new(fence)
          @client_lock = Mutex.new
          @current = build_client(current_authorization)
        end

        def api_version
          @group ? "#{@group}/#{@version}" : @version
        end

        # Returns [items, resourceVersion], each item passed through `transform` as its page
        # arrives. Listed in pages of LIST_PAGE: a single response for thousands of objects would
        # hold its whole JSON text and parse at once, a peak the heap keeps after the list is done.
        def list(namespace: nil, label_selector: nil, field_selector: nil, transform: nil)
          items = []
          continue = nil
          loop do
            result = list_page(namespace: namespace, label_selector: label_selector, field_selector: field_selector,
                               continue: continue)
            page = Array(result[:items])
            items.concat(transform ? page.map { |item| transform.call(item) } : page)
            continue = result.dig(:metadata, :continue)
            return [items, result.dig(:metadata, :resourceVersion)] if continue.nil? || continue.empty?
          end
        end

        def get(name, namespace)
          call(:get) { |client| client.get_entity(@plural, name, namespace, as: :parsed_symbolized) }
        rescue Kubeclient::ResourceNotFoundError
          nil
        end

        def create(body)
          call(:create) { |client| client.create_entity(@kind, @plural, body) }
        end

        # PUT with metadata.resourceVersion: optimistic concurrency, 409 on a lost race.
        def update(body)
          call(:update) { |client| client.update_entity(@plural, body) }
        end

        def delete(name, namespace, uid: nil)
          options = uid ? { preconditions: { uid: uid }, propagationPolicy: "Background" } : {}
          call(:delete) { |client| client.delete_entity(@plural, name, namespace, delete_options: options) }
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
          response = call(subresource ? :apply_status : :apply) do |client|
            client.rest_client["#{path}?#{query}"].patch(JSON.generate(payload),
                                                         { "Content-Type" => APPLY_TYPE }.merge(client.headers))
          end
          JSON.parse(response.body, symbolize_names: true)
        end

        def apply_status(name:, namespace:, status:, force: true)
          apply({ metadata: { name: name, namespace: namespace }, status: status }, subresource: "status", force: force)
        end

        def watch_url(namespace:, resource_version:, timeout_seconds:, label_selector: nil, field_selector: nil)
          base = @group ? "#{@connection.server}/apis/#{@group}/#{@version}" : "#{@connection.server}/api/#{@version}"
          path = namespace ? "#{base}/namespaces/#{namespace}/#{@plural}" : "#{base}/#{@plural}"
          query = { watch: "true", allowWatchBookmarks: "true", timeoutSeconds: timeout_seconds.to_i }
          query[:resourceVersion] = resource_version if resource_version
          query[:labelSelector] = label_selector if label_selector
          query[:fieldSelector] = field_selector if field_selector
          URI("#{path}?#{URI.encode_www_form(query)}")
        end

        private

        LIST_PAGE = 100

        def list_page(namespace:, label_selector:, field_selector:, continue:)
          options = { namespace: namespace, label_selector: label_selector, field_selector: field_selector, limit: LIST_PAGE,
                      continue: continue, as: :parsed_symbolized }.compact
          call(:list) { |client| client.get_entities(@kind, @plural, options) }
        end

        def resource_path(name, namespace, subresource)
          path = namespace ? "namespaces/#{namespace}/#{@plural}/#{name}" : "#{@plural}/#{name}"
          subresource ? "#{path}/#{subresource}" : path
        end

        def call(verb)
          @fence&.check!(verb, @plural)
          client = current_client
          @on_request.call(verb, @plural)
          client.handle_exception { yield client }
        end

        def current_authorization
          @connection.token_source&.authorization
        end

        # [authorization, client]: replaced as a whole, never changed in place.
        def current_client
          authorization = current_authorization
          current = @current
          return current.last if current.first == authorization

          @client_lock.synchronize do
            @current = build_client(authorization) unless @current.first == authorization
            @current.last
          end
        end

        def build_client(authorization)
          options = { group: @group, version: @version }
          options[:timeouts] = @timeouts if @timeouts
          client = @connection.client(**options)
          client.headers[:Authorization] = authorization if authorization
          client.rest_client # built eagerly: kubeclient memoizes it without a lock
          [authorization, client].freeze
        end
      end
    end
  end
end
