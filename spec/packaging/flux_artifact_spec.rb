# frozen_string_literal: true

require "fileutils"
require "json"
require "net/http"
require "open3"
require "rubygems/package"
require "socket"
require "stringio"
require "tmpdir"
require "yaml"
require "zlib"
require_relative "../../rakelib/release/flux_artifact"
require_relative "../../rakelib/release/manifest_tree"

# What `rake release:publish` pushes for Flux, checked against a real registry (Debian's
# docker-registry on loopback): the operator/deploy tree with the image pinned by digest, as an
# OCI artifact with Flux's media types and annotations, readable back layer by layer.
RSpec.describe "the Flux OCI artifact of operator/deploy" do
  root = File.expand_path("../..", __dir__)
  image_digest = "sha256:#{"ab" * 32}"

  before(:context) do
    @registry_server = StatsTracker::Testing::LocalRegistry.new.start
    @registry = @registry_server.address
    @dir = Dir.mktmpdir("flux-artifact-")
    @tree = Release::ManifestTree.new(repo_root: root)
                                 .render(out_dir: File.join(@dir, "tree"), image: "#{@registry}/stats-tracker-operator",
                                         digest: image_digest)
    @digest = Release::FluxArtifact.new(root: @tree, source: "https://example.test/stats_tracker", revision: "v9@sha1:0123")
                                   .push(registry: "#{@registry}/acme", repository: "stats-tracker-manifests", tag: "v9",
                                         insecure: true)
  end

  after(:context) do
    @registry_server&.stop
    FileUtils.rm_rf(@dir) if @dir
  end

  def get(path, accept: nil) = @registry_server.get(path, accept: accept)

  let(:manifest) do
    JSON.parse(get("/v2/acme/stats-tracker-manifests/manifests/v9", accept: "application/vnd.oci.image.manifest.v1+json"))
  end

  it "is an OCI manifest with Flux's config and content media types and the revision annotations" do
    expect(manifest["mediaType"]).to eq("application/vnd.oci.image.manifest.v1+json")
    expect(manifest.dig("config", "mediaType")).to eq("application/vnd.cncf.flux.config.v1+json")
    expect(manifest["layers"].map { |l| l["mediaType"] }).to eq(["application/vnd.cncf.flux.content.v1.tar+gzip"])
    expect(manifest["annotations"]).to include("org.opencontainers.image.revision" => "v9@sha1:0123",
                                               "org.opencontainers.image.source" => "https://example.test/stats_tracker")
    expect(@digest).to eq("sha256:#{Digest::SHA256.hexdigest(get("/v2/acme/stats-tracker-manifests/manifests/v9",
                                                                 accept: manifest["mediaType"]))}")
  end

  it "carries the operator/deploy tree at the paths the Flux Kustomizations name, the image pinned by digest" do
    layer = get("/v2/acme/stats-tracker-manifests/blobs/#{manifest["layers"].first["digest"]}")
    files = {}
    Gem::Package::TarReader.new(StringIO.new(Zlib.gunzip(layer))) do |tar|
      tar.each { |entry| files[entry.full_name] = entry.read if entry.file? }
    end
    expect(files.keys).to include("operator/deploy/crds/kustomization.yaml", "operator/deploy/samples/kustomization.yaml",
                                  "operator/deploy/overlays/production/kustomization.yaml")
    images = YAML.safe_load(files.fetch("operator/deploy/overlays/production/kustomization.yaml")).fetch("images")
    expect(images).to include("name" => "ghcr.io/stats-tracker/stats-tracker-operator",
                              "newName" => "#{@registry}/stats-tracker-operator", "digest" => image_digest)
  end

  it "refuses to pin anything but a sha256 digest" do
    expect { Release::ManifestTree.new(repo_root: root).render(out_dir: File.join(@dir, "x"), image: "r/i", digest: "latest") }
      .to raise_error(ArgumentError, /sha256/)
  end
end
