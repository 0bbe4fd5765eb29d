# frozen_string_literal: true

require "open3"
require "pathname"
require "tmpdir"
require "yaml"

module StatsTracker
  module Testing
    # The manifests under operator/deploy, built with the pinned kustomize CLI
    # (spec/deploy/support/build_kustomize.sh builds it once into the cache).
    module Manifests
      DEPLOY_DIR = File.expand_path("../../../operator/deploy", __dir__)
      BUILD_KUSTOMIZE = File.expand_path("build_kustomize.sh", __dir__)

      Build = Struct.new(:yaml, :documents, keyword_init: true) do
        def of_kind(kind)
          documents.select { |d| d["kind"] == kind }
        end

        def find(kind, name)
          documents.find { |d| d["kind"] == kind && d.dig("metadata", "name") == name }
        end

        def kinds
          documents.map { |d| d["kind"] }
        end
      end

      class << self
        def kustomize
          @kustomize ||= begin
            out, err, status = Open3.capture3(BUILD_KUSTOMIZE)
            raise "building kustomize failed:\n#{err}" unless status.success?

            out.strip
          end
        end

        # Every directory that holds a kustomization.yaml, relative to operator/deploy.
        def kustomization_dirs
          Dir.glob("**/kustomization.yaml", base: DEPLOY_DIR).map { |f| File.dirname(f) }.sort
        end

        def build(dir)
          path = File.expand_path(dir, DEPLOY_DIR)
          out, err, status = Open3.capture3(kustomize, "build", path)
          raise "kustomize build #{dir} failed:\n#{err}" unless status.success?

          Build.new(yaml: out, documents: YAML.load_stream(out).compact)
        end

        # Builds `dir` with extra kustomization fields layered on top, the way Flux's
        # Kustomization.spec.patches are applied by kustomize-controller: a throwaway
        # kustomization (inside operator/deploy, since kustomize only follows relative paths)
        # whose only resource is `dir`.
        def build_with(dir, **fields)
          Dir.mktmpdir("spec-", DEPLOY_DIR) do |tmp|
            relative = Pathname(File.expand_path(dir, DEPLOY_DIR)).relative_path_from(Pathname(tmp)).to_s
            doc = { "apiVersion" => "kustomize.config.k8s.io/v1beta1", "kind" => "Kustomization",
                    "resources" => [relative] }.merge(fields.transform_keys(&:to_s))
            File.write(File.join(tmp, "kustomization.yaml"), YAML.dump(doc))
            build(tmp)
          end
        end
      end
    end
  end
end
