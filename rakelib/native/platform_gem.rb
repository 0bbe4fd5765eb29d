# frozen_string_literal: true

require "fileutils"
require "rubygems/package"
require "tmpdir"

module NativeGem
  # A precompiled platform gem made from the source gem's specification: the same Ruby files,
  # signatures, CLI and prebuilt .wasm artifacts, plus lib/stats_tracker/<abi>/stats_tracker.so
  # for each Ruby ABI, and neither the Rust sources nor an extconf (nothing compiles at install
  # time). required_ruby_version covers exactly the ABIs inside.
  class PlatformGem
    ROOT = File.expand_path("../..", __dir__)
    # What only the source gem needs: the Cargo workspace the extension is compiled from.
    # wasm/wit stays: the operator reads from it the world a delivered parser must implement.
    SOURCE_ONLY = [%r{\Aext/}, %r{\Awasm/(?!wit/)}, /\ACargo\.(toml|lock)\z/].freeze

    # binaries: { "3.1" => "/path/to/stripped/stats_tracker.so", ... }
    def initialize(source_spec:, platform:, binaries:)
      @source_spec = source_spec
      @platform = platform
      @binaries = binaries
    end

    def spec
      @spec ||= @source_spec.dup.tap do |spec|
        spec.platform = Gem::Platform.new(@platform)
        spec.extensions = []
        spec.requirements = []
        spec.required_ruby_version = self.class.ruby_requirement(@binaries.keys)
        spec.files = (shipped_sources + binary_paths).sort
      end
    end

    # ">= 3.1", "< 3.2.dev" for ["3.1"]: prereleases of the next minor are another ABI too.
    def self.ruby_requirement(abis)
      versions = abis.map { |abi| Gem::Version.new(abi) }
      upper = versions.max.segments.then { |major, minor| "#{major}.#{minor + 1}.dev" }
      [">= #{versions.min}", "< #{upper}"]
    end

    def binary_paths
      @binaries.keys.map { |abi| "lib/stats_tracker/#{abi}/stats_tracker.so" }
    end

    # Stages the files in a scratch directory (the checkout stays as it is) and writes
    # <out_dir>/stats_tracker-<version>-<platform>.gem. -> its path
    def build(out_dir)
      Dir.mktmpdir("stats_tracker-platform-gem-") do |stage|
        shipped_sources.each { |file| copy(File.join(ROOT, file), File.join(stage, file)) }
        @binaries.each { |abi, binary| copy(binary, File.join(stage, "lib/stats_tracker/#{abi}/stats_tracker.so")) }
        built = Dir.chdir(stage) { Gem::Package.build(spec) }
        FileUtils.mkdir_p(out_dir)
        FileUtils.mv(File.join(stage, built), File.join(out_dir, built))
        File.join(out_dir, built)
      end
    end

    private

    def shipped_sources
      @source_spec.files.reject { |file| SOURCE_ONLY.any? { |pattern| file.match?(pattern) } }
    end

    def copy(from, to)
      FileUtils.mkdir_p(File.dirname(to))
      FileUtils.cp(from, to, preserve: true)
    end
  end
end
