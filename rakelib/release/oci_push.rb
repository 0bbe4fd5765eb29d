# frozen_string_literal: true

require "digest"
require "json"
require "net/http"
require "uri"

module Release
  class PushError < StandardError; end

  # Pushes blobs and a manifest to an OCI distribution registry (the Docker Registry HTTP API v2):
  # enough to publish a Flux OCI artifact without the flux CLI. Anonymous push only; `insecure`
  # means plain HTTP, as for a registry on a private host address.
  class OciPush
    MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"

    # registry: host[:port], optionally followed by a namespace path (ghcr.io/acme).
    def initialize(registry:, repository:, insecure: false)
      host, namespace = registry.split("/", 2)
      @base = URI("#{insecure ? "http" : "https"}://#{host}")
      @repository = [namespace, repository].compact.join("/")
    end

    # A blob is uploaded once; returns its descriptor.
    def blob(bytes, media_type:)
      digest = "sha256:#{Digest::SHA256.hexdigest(bytes)}"
      upload(bytes, digest) unless exists?(digest)
      { "mediaType" => media_type, "digest" => digest, "size" => bytes.bytesize }
    end

    # Returns the manifest digest the registry computed (and checks it against ours).
    def manifest(manifest, tag:)
      body = JSON.generate(manifest)
      res = request(Net::HTTP::Put.new(path("manifests/#{tag}"), "Content-Type" => MANIFEST_TYPE), body)
      expect_status(res, 201, "manifest #{@repository}:#{tag}")
      digest = "sha256:#{Digest::SHA256.hexdigest(body)}"
      given = res["Docker-Content-Digest"]
      raise PushError, "registry stored manifest #{given}, expected #{digest}" if given && given != digest

      digest
    end

    private

    def exists?(digest)
      request(Net::HTTP::Head.new(path("blobs/#{digest}"))).code == "200"
    end

    def upload(bytes, digest)
      start = request(Net::HTTP::Post.new(path("blobs/uploads/")))
      expect_status(start, 202, "blob upload start")
      location = URI.join(@base, start["Location"])
      location.query = [location.query, URI.encode_www_form(digest: digest)].compact.join("&")
      put = Net::HTTP::Put.new(location, "Content-Type" => "application/octet-stream")
      expect_status(request(put, bytes), 201, "blob #{digest}")
    end

    def path(rest) = "/v2/#{@repository}/#{rest}"

    def request(req, body = nil)
      req.body = body if body
      Net::HTTP.start(@base.host, @base.port, use_ssl: @base.scheme == "https", open_timeout: 10, read_timeout: 120) do |http|
        http.request(req)
      end
    rescue SystemCallError, IOError, Net::OpenTimeout, Net::ReadTimeout => e
      raise PushError, "#{req.method} #{@base}#{req.path}: #{e.message}"
    end

    def expect_status(res, code, what)
      return if res.code == code.to_s

      raise PushError, "#{what}: registry answered #{res.code} #{res.body.to_s[0, 300]}"
    end
  end
end
