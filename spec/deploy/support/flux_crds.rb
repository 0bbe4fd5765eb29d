# frozen_string_literal: true

require "json"
require "open3"
require "tmpdir"

module StatsTracker
  module Testing
    # Flux's own CRDs, taken from the pinned controller modules' sources on the Go module proxy
    # (`go mod download -json MODULE@VERSION` reports the unpacked Dir; the CRD YAML kubebuilder
    # generated is under config/crd/bases). v1.10.x needs go >= 1.27; v1.9.6 builds with the
    # go 1.26 toolchain installed here and serves the same v1 APIs (Flux 2.7).
    module FluxCrds
      MODULES = {
        "github.com/fluxcd/source-controller" => "v1.9.6",
        "github.com/fluxcd/kustomize-controller" => "v1.9.6"
      }.freeze
      FILES = %w[
        source.toolkit.fluxcd.io_gitrepositories.yaml
        source.toolkit.fluxcd.io_ocirepositories.yaml
        kustomize.toolkit.fluxcd.io_kustomizations.yaml
      ].freeze

      module_function

      def paths
        @paths ||= begin
          dirs = MODULES.map { |mod, version| module_dir(mod, version) }
          FILES.map do |file|
            dirs.map { |dir| File.join(dir, "config", "crd", "bases", file) }.find { |p| File.file?(p) } ||
              raise("#{file} is in none of #{MODULES.map { |m, v| "#{m}@#{v}" }.join(', ')}")
          end
        end
      end

      def module_dir(mod, version)
        env = { "GOFLAGS" => "-mod=mod", "GO111MODULE" => "on" }
        # Outside any module, so the project's own go.mod files play no part.
        out, err, status = Dir.mktmpdir("flux-mod-") do |tmp|
          Open3.capture3(env, go, "mod", "download", "-json", "#{mod}@#{version}", chdir: tmp)
        end
        info = JSON.parse(out) if status.success?
        raise "go mod download #{mod}@#{version} failed: #{err}#{info&.fetch('Error', nil)}" unless info&.fetch("Dir", nil)

        info.fetch("Dir")
      end

      def go
        ENV.fetch("PATH", "").split(File::PATH_SEPARATOR).map { |d| File.join(d, "go") }.find { |p| File.executable?(p) } ||
          (File.executable?("/usr/local/go/bin/go") ? "/usr/local/go/bin/go" : raise("go is not installed"))
      end
    end
  end
end
