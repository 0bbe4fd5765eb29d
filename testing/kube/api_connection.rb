# frozen_string_literal: true

require "json"
require "net/http"
require "openssl"
require "uri"

module StatsTracker
  module Testing
    module Kube
      # An HTTP status and body the harness itself could not accept (its own requests, not the specs').
      class ApiError < StandardError
        attr_reader :status, :body

        def initialize(message, status:, body:)
          super("#{message}: HTTP #{status} #{body.to_s[0, 500]}")
          @status = status
          @body = body
        end
      end

      # Raw HTTPS requests to the apiserver, as the admin (client certificate) or as a bearer-token
      # identity, for what kubeclient 4.9.3 cannot express (server-side apply of arbitrary kinds,
      # subresource POSTs) and for readiness probes.
      class ApiConnection
        Response = Struct.new(:status, :body, keyword_init: true) do
          def json = body.to_s.empty? ? {} : JSON.parse(body)
          def success? = status.between?(200, 299)
        end

        def initialize(url:, ca_file:, client_cert: nil, client_key: nil, bearer_token: nil, timeout: 10)
          @uri = URI(url)
          @ca_file = ca_file
          @client_cert = client_cert
          @client_key = client_key
          @bearer_token = bearer_token
          @timeout = timeout
        end

        def get(path) = request(Net::HTTP::Get, path)

        def post(path, body) = request(Net::HTTP::Post, path, JSON.generate(body), "application/json")

        def delete(path) = request(Net::HTTP::Delete, path)

        # The apiserver accepts JSON as YAML for apply patches; JSON keeps the body unambiguous.
        def apply(path, object)
          request(Net::HTTP::Patch, path, JSON.generate(object), "application/apply-patch+yaml")
        end

        def request(klass, path, body = nil, content_type = nil)
          req = klass.new(path)
          req["Accept"] = "application/json"
          req["Authorization"] = "Bearer #{@bearer_token}" if @bearer_token
          if body
            req["Content-Type"] = content_type
            req.body = body
          end
          res = http.start { |h| h.request(req) }
          Response.new(status: res.code.to_i, body: res.body)
        end

        private

        def http
          http = Net::HTTP.new(@uri.host, @uri.port)
          http.use_ssl = true
          http.verify_mode = OpenSSL::SSL::VERIFY_PEER
          http.ca_file = @ca_file
          if @client_cert
            http.cert = @client_cert
            http.key = @client_key
          end
          http.open_timeout = @timeout
          http.read_timeout = @timeout
          http
        end
      end
    end
  end
end
