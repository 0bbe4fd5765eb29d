# frozen_string_literal: true

require "json"
require "open3"
require "rubygems/package"
require "stringio"
require "zlib"
require "stats_tracker/parser_world"

# `rake release:parser` against a real registry (Debian's docker-registry on loopback): the parser
# component alone, as the OCI artifact `flux push artifact` would write, with the annotations an
# operator checks before loading it, each equal to what its own source says.
RSpec.describe "rake release:parser" do
  root = File.expand_path("../..", __dir__)
  wasm = File.join(root, "lib", "stats_tracker", "wasm", "ghcr_parser.wasm")

  before(:context) do
    @registry = StatsTracker::Testing::LocalRegistry.new.start
    out_file = File.join(Dir.mktmpdir("release-parser-"), "out.json")
    env = { "REGISTRY" => "#{@registry.address}/acme", "INSECURE" => "1", "TAG" => "v9.8.7", "RELEASE_OUT" => out_file }
    @output, status = Open3.capture2e(env, "bundle", "exec", "rake", "release:parser", chdir: root)
    raise "rake release:parser failed:\n#{@output}" unless status.success?

    @result = JSON.parse(File.read(out_file))
    @manifest = @registry.manifest("acme/stats-tracker-parser", "v9.8.7")
  end

  after(:context) { @registry&.stop }

  it "pushes an OCI manifest with Flux's config and tar+gzip content media types" do
    expect(@manifest["mediaType"]).to eq("application/vnd.oci.image.manifest.v1+json")
    expect(@manifest.dig("config", "mediaType")).to eq("application/vnd.cncf.flux.config.v1+json")
    expect(@manifest["layers"].map { |l| l["mediaType"] }).to eq(["application/vnd.cncf.flux.content.v1.tar+gzip"])
    expect(@result["digest"]).to eq("sha256:#{Digest::SHA256.hexdigest(@registry.get(
                                                                         "/v2/acme/stats-tracker-parser/manifests/v9.8.7", accept: @manifest["mediaType"]
                                                                       ))}")
  end

  it "annotates the WIT world, the core crate version and the source revision, each read from its source" do
    cargo, = Open3.capture2("cargo", "metadata", "--no-deps", "--format-version", "1", "--offline", chdir: root)
    core = JSON.parse(cargo)["packages"].find { |p| p["name"] == "ghcr-parser-core" }["version"]
    commit, = Open3.capture2("git", "-C", root, "rev-parse", "HEAD")
    expect(@manifest["annotations"]).to include(
      "stats-tracker.dev/parser-wit-world" => StatsTracker::ParserWorld.name,
      "stats-tracker.dev/parser-core-version" => core,
      "org.opencontainers.image.revision" => "v9.8.7@sha1:#{commit.strip}"
    )
    expect(StatsTracker::ParserWorld.name).to match(%r{\Astats-tracker:ghcr/ghcr-parser@\d+\.\d+\.\d+\z})
  end

  it "carries exactly the built component, byte for byte, as ghcr_parser.wasm" do
    layer = @registry.get("/v2/acme/stats-tracker-parser/blobs/#{@manifest["layers"].first["digest"]}")
    files = {}
    Gem::Package::TarReader.new(StringIO.new(Zlib.gunzip(layer))) do |tar|
      tar.each { |entry| files[entry.full_name] = entry.read if entry.file? }
    end
    expect(files.keys).to eq(["ghcr_parser.wasm"])
    expect(files["ghcr_parser.wasm"]).to eq(File.binread(wasm))
  end

  it "reads the world from the WIT package and world declarations" do
    Dir.mktmpdir do |dir|
      wit = File.join(dir, "w.wit")
      File.write(wit, "// c\npackage acme:pages@2.3.4;\ninterface x {}\nworld other-parser {\n  export x;\n}\n")
      expect(StatsTracker::ParserWorld.name(wit: wit)).to eq("acme:pages/other-parser@2.3.4")
      File.write(wit, "interface x {}\n")
      expect { StatsTracker::ParserWorld.name(wit: wit) }.to raise_error(ArgumentError, /no package/)
    end
  end
end
