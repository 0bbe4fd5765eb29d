# frozen_string_literal: true

require "json"
require "net/http"
require "openssl"
require "uri"

module StatsTracker
  module Testing
    # Talks to the API server as a ServiceAccount, with a bound token from the TokenRequest API,
    # exactly as the operator's pod would: real requests for what the operator does, and
    # SelfSubjectAccessReviews for verbs whose effect is awkward to trigger (watch).
    class ServiceAccountIdentity
      Response = Struct.new(:status, :body, keyword_init: true) do
        def json = body.to_s.empty? ? {} : JSON.parse(body)
        def forbidden? = status == 403
      end

      def initialize(kube:, service_account:, namespace:)
        @uri = URI(kube.api_url)
        @ca_file = ca_file_of(kube)
        @token = kube.token_for(service_account: service_account, namespace: namespace)
      end

      def get(path) = request(Net::HTTP::Get, path)
      def delete(path) = request(Net::HTTP::Delete, path)

      def request_delete(path, preconditions:)
        request(Net::HTTP::Delete, path, { apiVersion: "v1", kind: "DeleteOptions", preconditions: preconditions },
                "application/json")
      end

      def post(path, body) = request(Net::HTTP::Post, path, body, "application/json")
      def put(path, body) = request(Net::HTTP::Put, path, body, "application/json")
      def merge_patch(path, body) = request(Net::HTTP::Patch, path, body, "application/merge-patch+json")

      def apply(path, body, field_manager: "stats-tracker-operator")
        request(Net::HTTP::Patch, "#{path}?fieldManager=#{field_manager}&force=true", body,
                "application/apply-patch+yaml")
      end

      # SelfSubjectAccessReview: what the authorizer decides for this identity, no side effects.
      def can?(verb, resource, group: "", namespace: nil, subresource: nil, name: nil)
        attributes = { verb: verb, resource: resource, group: group, namespace: namespace,
                       subresource: subresource, name: name }.compact
        review = { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview",
                   spec: { resourceAttributes: attributes } }
        res = post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", review)
        raise "SelfSubjectAccessReview failed: #{res.status} #{res.body}" unless res.status == 201

        res.json.dig("status", "allowed") == true
      end

      private

      def request(klass, path, body = nil, content_type = nil)
        req = klass.new(path)
        req["Authorization"] = "Bearer #{@token}"
        req["Accept"] = "application/json"
        if body
          req["Content-Type"] = content_type
          req.body = JSON.generate(body)
        end
        res = http.start { |h| h.request(req) }
        Response.new(status: res.code.to_i, body: res.body)
      end

      def http
        http = Net::HTTP.new(@uri.host, @uri.port)
        http.use_ssl = true
        http.verify_mode = OpenSSL::SSL::VERIFY_PEER
        http.ca_file = @ca_file
        http.open_timeout = 10
        http.read_timeout = 10
        http
      end

      # The cluster CA as the harness hands it to kubeclient.
      def ca_file_of(kube)
        options = kube.ssl_options
        options[:ca_file] || options["ca_file"] or raise ArgumentError, "harness ssl_options has no :ca_file"
      end
    end
  end
end
