# frozen_string_literal: true

require "fileutils"
require "pathname"
require "yaml"

module Release
  # The Flux source for one publish: a kustomization whose only resource is the repository's
  # operator/deploy/flux/oci and whose patch fills in what only publishing knows, the artifact's
  # address and tag (and plain HTTP for a registry without TLS). flux/oci leaves them out on
  # purpose, so applying it unpublished fails on `spec.url: Required value` instead of pointing
  # Flux at a registry nothing pushed to.
  class FluxSource
    OCI_DIR = File.join("operator", "deploy", "flux", "oci")

    def initialize(repo_root:)
      @repo_root = repo_root
    end

    HEADER = <<~TEXT
      # Written by `rake release:publish`: `kubectl apply -k` this directory, or copy its patch
      # next to operator/deploy/flux/oci in your fleet repository.
    TEXT

    # url: oci://host[:port]/path/repository. Writes out_dir/kustomization.yaml; returns out_dir.
    def render(out_dir:, url:, tag:, insecure: false)
      raise ArgumentError, "not an oci:// URL: #{url.inspect}" unless url.start_with?("oci://")

      FileUtils.mkdir_p(out_dir)
      doc = kustomization(out_dir, url, tag, insecure)
      File.write(File.join(out_dir, "kustomization.yaml"), HEADER + YAML.dump(doc).delete_prefix("---\n"))
      out_dir
    end

    # The JSON patch that points flux/oci's OCIRepository at a published artifact.
    def self.patch(url:, tag:, insecure: false)
      ops = [{ "op" => "add", "path" => "/spec/url", "value" => url },
             { "op" => "add", "path" => "/spec/ref", "value" => { "tag" => tag } }]
      ops << { "op" => "add", "path" => "/spec/insecure", "value" => true } if insecure
      ops
    end

    private

    def kustomization(out_dir, url, tag, insecure)
      # kustomize takes no absolute paths.
      base = Pathname(File.join(@repo_root, OCI_DIR)).relative_path_from(Pathname(File.expand_path(out_dir))).to_s
      { "apiVersion" => "kustomize.config.k8s.io/v1beta1", "kind" => "Kustomization",
        "resources" => [base],
        "patches" => [{ "target" => { "kind" => "OCIRepository", "name" => "stats-tracker" },
                        "patch" => YAML.dump(self.class.patch(url: url, tag: tag, insecure: insecure)) }] }
    end
  end
end
