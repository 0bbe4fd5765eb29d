# frozen_string_literal: true

require "English"
require_relative "native/extension_build"
require_relative "native/platform_gem"

# Precompiled platform gems: `rake gem:native` builds pkg/stats_tracker-VERSION.gem (the source
# gem) and one gem per platform in NativeGem::TARGETS, each holding the stripped extension for
# the Ruby ABI it was compiled against. The aarch64 one is cross-compiled (bin/setup --cross
# installs the toolchain and Debian's arm64 Ruby headers); `rake gem:native:smoke` tries it in an
# emulated arm64 Debian.
module NativeGemTasks
  ROOT = File.expand_path("..", __dir__)
  NATIVE_DIR = File.join(ROOT, "rakelib", "native")
  # A module's functions do not see the `sh` Rake gives the top level.
  extend Rake::FileUtilsExt

  module_function

  def build(platform)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    source_spec = GemPackaging.spec
    extension = NativeGem::ExtensionBuild.new(target: NativeGem::TARGETS.fetch(platform),
                                              version: source_spec.version.to_s, cache_home: CACHE_HOME)
    binary = extension.build
    gem = NativeGem::PlatformGem.new(source_spec: source_spec, platform: platform, binaries: { extension.abi => binary })
    GemPackaging.check_files!(gem.spec.files, required: [*GemPackaging::PLATFORM_REQUIRED, *gem.binary_paths],
                                              forbidden: GemPackaging::PLATFORM_FORBIDDEN)
    path = gem.build(File.join(ROOT, "pkg"))
    seconds = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    puts format("built %<path>s (%<bytes>d bytes, Ruby %<ruby>s) in %<seconds>.1f s",
                path: path, bytes: File.size(path), ruby: gem.spec.required_ruby_version, seconds: seconds)
  end

  def arm64_smoke
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    rootfs = IO.popen([File.join(NATIVE_DIR, "arm64_rootfs.sh")], &:read).strip
    raise "building the arm64 rootfs failed" unless $CHILD_STATUS.success?

    puts format("arm64 rootfs ready in %.1f s: %s", Process.clock_gettime(Process::CLOCK_MONOTONIC) - started, rootfs)
    smoke_in(rootfs)
    puts format("gem:native:smoke OK in %.1f s", Process.clock_gettime(Process::CLOCK_MONOTONIC) - started)
  end

  def smoke_in(rootfs)
    sh File.join(NATIVE_DIR, "arm64_smoke.sh"), rootfs, GemPackaging.platform_gem_path("aarch64-linux"),
       *GemPackaging.smoke_inputs
  end
end

namespace :gem do
  desc "Build the source gem and the x86_64-linux and aarch64-linux platform gems into pkg/"
  task native: ["gem", *NativeGem::TARGETS.keys.map { |platform| "gem:native:#{platform}" }]

  namespace :native do
    NativeGem::TARGETS.each_value do |target|
      desc "Build pkg/stats_tracker-VERSION-#{target.platform}.gem#{' (cross-compiled)' if target.cross?}"
      task target.platform => (target.cross? ? :wasm : :compile) do
        NativeGemTasks.build(target.platform)
      end
    end

    desc "Opt-in: install the aarch64-linux gem in an arm64 Debian under qemu and use it (needs root, bin/setup --cross)"
    task smoke: "gem:native:aarch64-linux" do
      NativeGemTasks.arm64_smoke
    end
  end
end
