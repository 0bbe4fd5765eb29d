# frozen_string_literal: true

require "json"
require "kubeclient"
require "net/http"
require "uri"
require_relative "write_fence"

module StatsTracker
  module Operator
    module Kube
      # The calls the operator makes for one resource type: list (paged), get, create, update
      # (PUT), delete and server-side apply with an explicit field manager and force flag (optionally
      # on /status). Each call goes out on the calling thread's kept-alive connection (KeepAlive)
      # with the current bearer token, read per call, so a rotated token needs no new client.
      # Failures raise what kubeclient 4.9.3 raised, so callers keep one error vocabulary:
      # Kubeclient::HttpError with the HTTP code (ResourceNotFoundError for 404), or with code nil
      # for a timeout; socket and TLS errors unwrapped.
      #
      # `fence`, when given, is asked before every write; a write it refuses raises NotPermitted
      # (a replica that is no longer leader).
      class ResourceApi
        APPLY_TYPE = "application/apply-patch+yaml"
        JSON_TYPE = "application/json"
        DEFAULT_TIMEOUTS = { open: 5, read: 30 }.freeze
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
          timeouts = DEFAULT_TIMEOUTS.merge(timeouts || {})
          @http = connection.keep_alive(open_timeout: timeouts.fetch(:open), read_timeout: timeouts.fetch(:read))
          @fence = fence && WriteFence.new(fence)
          @base_path = "#{URI(connection.server).path}#{group ? "/apis/#{group}/#{version}" : "/api/#{version}"}"
        end

        def api_version
          @group ? "#{@group}/#{@version}" : @version
        end

        # Returns [items, resourceVersion], each item passed through `transform` as its page
        # arrives. Listed in pages of LIST_PAGE: a single response for thousands of objects would
        # hold its whole JSON text and parse at once, a peak the heap keeps after the list is done.
        #
        # A plain `until`, not `loop do ... return ... end`: a return from inside a block given to
        # a C method (Kernel#loop) leaves its value in the thread's pending-throw slot, where it
        # stays reachable until that thread next raises. For the informer thread, which then waits
        # on its watch for as long as the process runs, that kept every listed object alive after
        # the watch had replaced it in the cache.
        def list(namespace: nil, label_selector: nil, field_selector: nil, transform: nil)
          items = []
          continue = nil
          result = nil
          until result && continue.to_s.empty?
            result = list_page(namespace: namespace, label_selector: label_selector, field_selector: field_selector,
                               continue: continue)
            page = Array(result[:items])
            items.concat(transform ? page.map { |item| transform.call(item) } : page)
            continue = result.dig(:metadata, :continue)
          end
          [items, result.dig(:metadata, :resourceVersion)]
        end

        def get(name, namespace)
          call(:get, Net::HTTP::Get, resource_path(name, namespace, nil))
        rescue Kubeclient::ResourceNotFoundError
          nil
        end

        def create(body)
          payload = body.merge(kind: @kind, apiVersion: api_version)
          call(:create, Net::HTTP::Post, collection_path(body.dig(:metadata, :namespace)), body: JSON.generate(payload))
        end

        # PUT with metadata.resourceVersion: optimistic concurrency, 409 on a lost race.
        def update(body)
          meta = body.fetch(:metadata)
          call(:update, Net::HTTP::Put, resource_path(meta.fetch(:name), meta[:namespace], nil), body: JSON.generate(body))
        end

        # uid and resource_version, when given, are preconditions: the API server answers 409
        # instead of deleting another object of that name, or a version that was not read.
        def delete(name, namespace, uid: nil, resource_version: nil)
          preconditions = { uid: uid, resourceVersion: resource_version }.compact
          options = preconditions.empty? ? nil : { preconditions: preconditions, propagationPolicy: "Background" }
          call(:delete, Net::HTTP::Delete, resource_path(name, namespace, nil), body: options && JSON.generate(options))
          true
        rescue Kubeclient::ResourceNotFoundError
          false
        end

        # Server-side apply of `body` (a Hash: apiVersion/kind are filled in). With subresource
        # "status" only the status is applied; the field manager then owns exactly what it sent.
        # A metadata.resourceVersion in `body` is a precondition on an existing object (409 when
        # it changed since); when the object does not exist, apply creates it and ignores it.
        def apply(body, subresource: nil, force: true)
          meta = body.fetch(:metadata)
          path = resource_path(meta.fetch(:name), meta[:namespace], subresource)
          query = URI.encode_www_form(fieldManager: @field_manager, force: force)
          payload = { apiVersion: api_version, kind: @kind }.merge(body)
          call(subresource ? :apply_status : :apply, Net::HTTP::Patch, "#{path}?#{query}",
               body: JSON.generate(payload), content_type: APPLY_TYPE)
        end

        # resource_version: the version the status was computed from, as a precondition.
        def apply_status(name:, namespace:, status:, resource_version: nil, force: true)
          metadata = { name: name, namespace: namespace, resourceVersion: resource_version }.compact
          apply({ metadata: metadata, status: status }, subresource: "status", force: force)
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
          query = { labelSelector: label_selector, fieldSelector: field_selector, limit: LIST_PAGE, continue: continue }
          call(:list, Net::HTTP::Get, "#{collection_path(namespace)}?#{URI.encode_www_form(query.compact)}")
        end

        def collection_path(namespace)
          namespace.to_s.empty? ? "#{@base_path}/#{@plural}" : "#{@base_path}/namespaces/#{namespace}/#{@plural}"
        end

        def resource_path(name, namespace, subresource)
          path = "#{collection_path(namespace)}/#{name}"
          subresource ? "#{path}/#{subresource}" : path
        end

        def call(verb, method, path, body: nil, content_type: JSON_TYPE)
          @fence&.check!(verb, @plural)
          request = method.new(path)
          request["Accept"] = JSON_TYPE
          authorization = @connection.authorization
          request["Authorization"] = authorization if authorization
          if body
            request["Content-Type"] = content_type
            request.body = body
          end
          @on_request.call(verb, @plural)
          parse(send_request(request))
        end

        def send_request(request)
          @http.request(request)
        rescue Net::OpenTimeout, Net::ReadTimeout, Net::WriteTimeout => e
          raise Kubeclient::HttpError.new(nil, "#{e.class}: #{e.message}", nil)
        end

        def parse(response)
          code = response.code.to_i
          raise error_for(code, response) unless code.between?(200, 299)

          body = response.body
          body.nil? || body.empty? ? {} : JSON.parse(body, symbolize_names: true)
        end

        def error_for(code, response)
          message = begin
            JSON.parse(response.body.to_s)["message"]
          rescue JSON::ParserError, TypeError
            nil
          end
          message ||= "#{response.code} #{response.message}"
          (code == 404 ? Kubeclient::ResourceNotFoundError : Kubeclient::HttpError).new(code, message, response)
        end
      end
    end
  end
end
