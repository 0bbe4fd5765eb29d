# frozen_string_literal: true

require "digest"
require "net/http"
require "rubygems/package"
require "stringio"
require "uri"
require "zlib"
require_relative "refusal"

module StatsTracker
  module Operator
    module ParserSource
      # Fetches an OCIRepository's artifact from source-controller (status.artifact.url, a
      # tar+gzip archive), checks it against status.artifact.digest before reading a byte of it,
      # and returns the parser component inside. Everything stays in memory: nothing from the
      # archive is written to disk, so its paths cannot escape anywhere.
      class ArtifactDownload
        FILE = "ghcr_parser.wasm"
        MAX_ARCHIVE_BYTES = 32 * 1024 * 1024
        MAX_COMPONENT_BYTES = 16 * 1024 * 1024

        def initialize(timeout: 60, max_archive_bytes: MAX_ARCHIVE_BYTES)
          @timeout = timeout
          @max_archive_bytes = max_archive_bytes
        end

        # -> the component's bytes; raises Refusal.
        def fetch(url:, digest:)
          algorithm, expected = digest.to_s.split(":", 2)
          raise Refusal.new("DigestMismatch", "unsupported artifact digest #{digest.inspect}") unless
            algorithm == "sha256" && expected&.match?(/\A\h{64}\z/)

          archive = download(url)
          actual = Digest::SHA256.hexdigest(archive)
          raise Refusal.new("DigestMismatch", "artifact from #{url} has sha256:#{actual}, status says #{digest}") unless
            actual == expected.downcase

          component(archive)
        end

        private

        def download(url)
          uri = URI(url)
          raise Refusal.new("DownloadFailed", "artifact URL #{url.inspect} is not http(s)") unless %w[http https].include?(uri.scheme)

          body = +"".b
          Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == "https", open_timeout: @timeout, read_timeout: @timeout) do |http|
            http.request_get(uri.request_uri) do |res|
              raise Refusal.new("DownloadFailed", "GET #{url}: HTTP #{res.code}") unless res.code == "200"

              res.read_body do |chunk|
                body << chunk
                raise Refusal.new("DownloadFailed", "artifact from #{url} exceeds #{@max_archive_bytes} bytes") if
                  body.bytesize > @max_archive_bytes
              end
            end
          end
          body
        rescue SystemCallError, IOError, SocketError, Net::OpenTimeout, Net::ReadTimeout, URI::InvalidURIError => e
          raise Refusal.new("DownloadFailed", "GET #{url}: #{e.class}: #{e.message}")
        end

        def component(archive)
          found = nil
          Gem::Package::TarReader.new(StringIO.new(Zlib.gunzip(archive))) do |tar|
            tar.each do |entry|
              next unless entry.file? && entry.full_name.delete_prefix("./") == FILE
              raise Refusal.new("BadArtifact", "#{FILE} in the artifact exceeds #{MAX_COMPONENT_BYTES} bytes") if
                entry.header.size > MAX_COMPONENT_BYTES

              found = entry.read || +""
            end
          end
          found or raise Refusal.new("BadArtifact", "the artifact has no #{FILE} at its top level")
        rescue Zlib::Error, Gem::Package::TarInvalidError, Gem::Package::Error => e
          raise Refusal.new("BadArtifact", "the artifact is not a tar+gzip archive: #{e.message}")
        end
      end
    end
  end
end
