# frozen_string_literal: true

require "fileutils"
require "yaml"

module Release
  # The repository's operator/deploy tree as it is published for Flux: the same paths (so the
  # Flux Kustomizations' `path:` values hold for Git and OCI sources alike), with the production
  # overlay's image pinned by digest to the image just pushed.
  class ManifestTree
    IMAGE_NAME = "ghcr.io/stats-tracker/stats-tracker-operator"
    OVERLAY = "operator/deploy/overlays/production/kustomization.yaml"

    def initialize(repo_root:)
      @repo_root = repo_root
    end

    # Writes the tree under out_dir; returns out_dir.
    def render(out_dir:, image:, digest:)
      raise ArgumentError, "not a sha256 digest: #{digest.inspect}" unless digest.match?(/\Asha256:\h{64}\z/)

      FileUtils.rm_rf(out_dir)
      FileUtils.mkdir_p(File.join(out_dir, "operator"))
      FileUtils.cp_r(File.join(@repo_root, "operator", "deploy"), File.join(out_dir, "operator", "deploy"))
      pin(File.join(out_dir, OVERLAY), image: image, digest: digest)
      out_dir
    end

    private

    def pin(path, image:, digest:)
      doc = YAML.safe_load(File.read(path))
      entry = doc.fetch("images").find { |i| i["name"] == IMAGE_NAME } or
        raise ArgumentError, "#{OVERLAY} has no images entry for #{IMAGE_NAME}"
      entry.delete("newTag")
      entry["newName"] = image
      entry["digest"] = digest
      File.write(path, "# Pinned by `rake release:publish`.\n#{YAML.dump(doc).delete_prefix("---\n")}")
    end
  end
end
