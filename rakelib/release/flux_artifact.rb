# frozen_string_literal: true

require "json"
require "rubygems/package"
require "stringio"
require "time"
require "zlib"
require_relative "oci_push"

module Release
  # A directory tree as a Flux OCI artifact, the layout `flux push artifact` writes: an empty
  # JSON config of Flux's config media type, one tar+gzip layer of the tree, and the source and
  # revision annotations source-controller reports in the OCIRepository's status, plus any
  # annotations of the publisher's own (source-controller copies them all to status.artifact.metadata).
  class FluxArtifact
    CONFIG_TYPE = "application/vnd.cncf.flux.config.v1+json"
    CONTENT_TYPE = "application/vnd.cncf.flux.content.v1.tar+gzip"

    def initialize(root:, source:, revision:, created: Time.now.utc, annotations: {})
      @root = root
      @source = source
      @revision = revision
      @created = created
      @annotations = annotations
    end

    # Paths inside the layer are relative to root; entries sorted, owner and times fixed, so the
    # same tree gives the same layer digest.
    def layer
      tar = StringIO.new(+"", "wb")
      Gem::Package::TarWriter.new(tar) do |writer|
        Dir.glob("**/*", base: @root).sort.each do |rel|
          full = File.join(@root, rel)
          if File.directory?(full)
            writer.mkdir(rel, 0o755)
          else
            writer.add_file_simple(rel, 0o644, File.size(full)) { |io| io.write(File.binread(full)) }
          end
        end
      end
      gz = StringIO.new(+"", "wb")
      zip = Zlib::GzipWriter.new(gz)
      zip.mtime = 0
      zip.write(tar.string)
      zip.close
      gz.string
    end

    def push(registry:, repository:, tag:, insecure: false)
      oci = OciPush.new(registry: registry, repository: repository, insecure: insecure)
      manifest = {
        "schemaVersion" => 2, "mediaType" => OciPush::MANIFEST_TYPE,
        "config" => oci.blob("{}", media_type: CONFIG_TYPE),
        "layers" => [oci.blob(layer, media_type: CONTENT_TYPE)],
        "annotations" => { "org.opencontainers.image.created" => @created.iso8601,
                           "org.opencontainers.image.source" => @source,
                           "org.opencontainers.image.revision" => @revision }.merge(@annotations)
      }
      oci.manifest(manifest, tag: tag)
    end
  end
end
