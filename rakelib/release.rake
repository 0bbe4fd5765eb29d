# frozen_string_literal: true

require "fileutils"
require "json"
require "open3"
require "tmpdir"
require_relative "release/flux_artifact"
require_relative "release/flux_source"
require_relative "release/manifest_tree"
require_relative "release/parser_artifact"
require_relative "release/signer"

# Publishing for Flux: the operator image (built without a Docker engine, rakelib/image.rake) and
# the operator/deploy tree with that image pinned by digest, as a Flux OCI artifact, both pushed
# to one registry. REGISTRY=host:port (required), TAG (default v<gem version>), REVISION (default
# the Git commit; it labels the image, so a new revision is a new image digest even when the gem
# is unchanged), INSECURE=1 for a plain-HTTP registry, RELEASE_OUT=file to also write the result
# as JSON, RELEASE_SOURCE_DIR=dir for the Flux source it writes (default pkg/flux-source: flux/oci
# pointed at the artifact just pushed, for `kubectl apply -k`), SIGN_KEY=cosign.key to sign the
# image and the artifact by digest with cosign (COSIGN=binary, default `cosign`; the key's password
# in COSIGN_PASSWORD). Anonymous push: for a registry that needs credentials, log in with skopeo
# (image) and push the artifact with `flux push artifact` instead.
module ReleasePublish
  ROOT = File.expand_path("..", __dir__)
  IMAGE_REPOSITORY = "stats-tracker-operator"
  MANIFESTS_REPOSITORY = "stats-tracker-manifests"
  PARSER_REPOSITORY = "stats-tracker-parser"
  extend Rake::FileUtilsExt

  module_function

  def settings(env = ENV)
    registry = env["REGISTRY"].to_s
    abort "release: set REGISTRY=host:port (the registry to push the image and the manifests to)" if registry.empty?
    { registry: registry, tag: env.fetch("TAG") { "v#{GemPackaging.spec.version}" },
      revision: env.fetch("REVISION") { git("rev-parse", "HEAD") }, insecure: env["INSECURE"] == "1",
      out: env["RELEASE_OUT"], source_dir: env.fetch("RELEASE_SOURCE_DIR") { File.join(ROOT, "pkg", "flux-source") },
      signer: signer(env, insecure: env["INSECURE"] == "1") }
  end

  # Checked before anything is built or pushed, so a mistyped key path costs nothing.
  def signer(env, insecure:)
    key = env["SIGN_KEY"].to_s
    return nil if key.empty?

    Release::Signer.new(key: key, cosign: env.fetch("COSIGN", "cosign"), insecure: insecure)
  rescue Release::SignError => e
    abort "release: #{e.message}"
  end

  def git(*args)
    out, status = Open3.capture2("git", "-C", ROOT, *args)
    status.success? ? out.strip : "unknown"
  end

  # The image build.sh made, relabelled with the revision under a tag of its own, in a private
  # copy of its layout: the built image stays as built for every other reader.
  def push_image(s)
    built = GemPackaging.spec.version.to_s
    Dir.mktmpdir("release-image-") do |tmp|
      layout = File.join(tmp, "oci")
      FileUtils.cp_r(File.join(OperatorImage.built, "oci"), layout)
      sh "umoci", "config", "--image", "#{layout}:#{built}", "--tag", s[:tag],
         "--config.label", "org.opencontainers.image.revision=#{s[:revision]}"
      digest_file = File.join(tmp, "pushed.digest")
      sh "skopeo", "copy", "--quiet", "--digestfile", digest_file, *(s[:insecure] ? ["--dest-tls-verify=false"] : []),
         "oci:#{layout}:#{s[:tag]}", "docker://#{s[:registry]}/#{IMAGE_REPOSITORY}:#{s[:tag]}"
      File.read(digest_file).strip
    end
  end

  def push_manifests(s, image_digest)
    tree = Release::ManifestTree.new(repo_root: ROOT)
                                .render(out_dir: File.join(CACHE_HOME, "release", "manifests"), image: "#{s[:registry]}/#{IMAGE_REPOSITORY}",
                                        digest: image_digest)
    artifact = Release::FluxArtifact.new(root: tree, source: git("config", "--get", "remote.origin.url"),
                                         revision: "#{s[:tag]}@sha1:#{git("rev-parse", "HEAD")}")
    artifact.push(registry: s[:registry], repository: MANIFESTS_REPOSITORY, tag: s[:tag], insecure: s[:insecure])
  end

  def manifests_url(s) = "oci://#{s[:registry]}/#{MANIFESTS_REPOSITORY}"

  def write_flux_source(s)
    Release::FluxSource.new(repo_root: ROOT).render(out_dir: s[:source_dir], url: manifests_url(s), tag: s[:tag],
                                                    insecure: s[:insecure])
  end
end

# The parser on its own: REGISTRY=host:port (required), TAG (default v<parser core crate version>:
# an OCIRepository with a semver range picks the highest), REVISION (default the Git commit),
# PARSER_WASM (default the component `rake wasm` builds), INSECURE=1, RELEASE_OUT=file, SIGN_KEY
# (and COSIGN) as for release:publish.
module ReleaseParser
  module_function

  def publish(env = ENV)
    s = ReleasePublish.settings(env)
    wasm = env.fetch("PARSER_WASM") { File.join(ReleasePublish::ROOT, "lib", "stats_tracker", "wasm", "ghcr_parser.wasm") }
    artifact = Release::ParserArtifact.new(wasm: wasm, repo_root: ReleasePublish::ROOT,
                                           source: ReleasePublish.git("config", "--get", "remote.origin.url"))
    tag = env.fetch("TAG") { "v#{artifact.core_version}" }
    # Flux's form of a source revision: the tag and the commit it was built from.
    revision = env.fetch("REVISION") { "#{tag}@sha1:#{ReleasePublish.git("rev-parse", "HEAD")}" }
    digest = Dir.mktmpdir("parser-artifact") do |dir|
      artifact.push(registry: s[:registry], repository: ReleasePublish::PARSER_REPOSITORY, tag: tag, revision: revision,
                    work_dir: dir, insecure: s[:insecure])
    end
    signed = s[:signer]&.sign("#{s[:registry]}/#{ReleasePublish::PARSER_REPOSITORY}@#{digest}")
    { "parser" => "oci://#{s[:registry]}/#{ReleasePublish::PARSER_REPOSITORY}:#{tag}", "digest" => digest,
      "tag" => tag, "revision" => revision, "annotations" => artifact.annotations, "signed" => [signed].compact }
  end
end

namespace :release do
  # The gem (and so the image built from it) is byte-identical for identical sources when its
  # timestamps come from the commit, so publishing again reuses the image instead of rebuilding it.
  task :reproducible do
    epoch = ReleasePublish.git("log", "-1", "--format=%ct")
    ENV["SOURCE_DATE_EPOCH"] ||= epoch if epoch.match?(/\A\d+\z/)
  end

  # Settings (REGISTRY, SIGN_KEY) are checked before the image is built.
  task :settings do
    ReleasePublish.settings
  end

  desc "Build and push the operator image and the Flux OCI artifact of operator/deploy (REGISTRY=host:port)"
  task publish: ["release:settings", "release:reproducible", "image:build"] do
    s = ReleasePublish.settings
    image_digest = ReleasePublish.push_image(s)
    manifests_digest = ReleasePublish.push_manifests(s, image_digest)
    # The image first: a verifier that accepts the manifests also finds the image they pin signed.
    signed = [["#{s[:registry]}/#{ReleasePublish::IMAGE_REPOSITORY}", image_digest],
              ["#{s[:registry]}/#{ReleasePublish::MANIFESTS_REPOSITORY}", manifests_digest]].map do |repo, digest|
      s[:signer]&.sign("#{repo}@#{digest}")
    end
    source_dir = ReleasePublish.write_flux_source(s)
    result = { "image" => "#{s[:registry]}/#{ReleasePublish::IMAGE_REPOSITORY}@#{image_digest}",
               "manifests" => "#{ReleasePublish.manifests_url(s)}:#{s[:tag]}",
               "manifests_digest" => manifests_digest, "tag" => s[:tag], "revision" => s[:revision],
               "flux_source" => source_dir, "signed" => signed.compact }
    File.write(s[:out], JSON.pretty_generate(result)) if s[:out]
    puts JSON.pretty_generate(result)
    puts "Flux source: kubectl apply -k #{source_dir}"
  end

  desc "Push the parser component alone as a Flux OCI artifact (REGISTRY=host:port [TAG=vX.Y.Z PARSER_WASM=file])"
  task parser: "wasm" do
    result = ReleaseParser.publish
    File.write(ENV["RELEASE_OUT"], JSON.pretty_generate(result)) if ENV["RELEASE_OUT"]
    puts JSON.pretty_generate(result)
  end
end
