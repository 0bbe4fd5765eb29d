# frozen_string_literal: true

require "fileutils"
require "json"
require "open3"
require_relative "flux_artifact"
require_relative "../../lib/stats_tracker/parser_world"

module Release
  # The parser component alone as a Flux OCI artifact, so a new parser reaches running operators
  # without a new image: one tar+gzip layer holding FILE, annotated with what an operator checks
  # before it loads it (the WIT world) and what a maintainer needs to trace it (the parser core's
  # crate version; the source revision is Flux's own revision annotation). Each value is read
  # from the file that defines it, never restated here.
  class ParserArtifact
    FILE = "ghcr_parser.wasm"
    WORLD = "stats-tracker.dev/parser-wit-world"
    CORE_VERSION = "stats-tracker.dev/parser-core-version"
    CORE_CRATE = "ghcr-parser-core"

    def initialize(wasm:, repo_root:, source:)
      raise ArgumentError, "no parser component at #{wasm}: run `rake wasm` first" unless File.file?(wasm)

      @wasm = wasm
      @repo_root = repo_root
      @source = source
    end

    def annotations
      { WORLD => StatsTracker::ParserWorld.name(wit: File.join(@repo_root, "wasm", "wit", "ghcr-parser.wit")),
        CORE_VERSION => core_version }
    end

    # Stages FILE in work_dir (an empty directory) and pushes it; returns the manifest digest.
    def push(registry:, repository:, tag:, revision:, work_dir:, insecure: false)
      FileUtils.cp(@wasm, File.join(work_dir, FILE))
      FluxArtifact.new(root: work_dir, source: @source, revision: revision, annotations: annotations)
                  .push(registry: registry, repository: repository, tag: tag, insecure: insecure)
    end

    # The version cargo resolves for the core crate (it inherits the workspace's).
    def core_version
      out, err, status = Open3.capture3("cargo", "metadata", "--no-deps", "--format-version", "1", "--offline",
                                        chdir: @repo_root)
      raise "cargo metadata failed: #{err}" unless status.success?

      package = JSON.parse(out).fetch("packages").find { |p| p["name"] == CORE_CRATE } or
        raise "#{CORE_CRATE} is not in the workspace at #{@repo_root}"
      package.fetch("version")
    end
  end
end
