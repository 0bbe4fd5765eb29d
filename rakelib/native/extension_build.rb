# frozen_string_literal: true

require "fileutils"
require_relative "glibc_floor"
require_relative "target"

module NativeGem
  # The extension binary that goes into a platform gem: compiled for the target (the host's
  # comes from `rake compile`; a foreign one is cross-compiled with cargo into its own target
  # dir under CARGO_TARGET_DIR), then copied to a cache outside the checkout keyed by gem
  # version, platform and Ruby ABI, stripped, and checked against the glibc floor.
  class ExtensionBuild
    ROOT = File.expand_path("../..", __dir__)
    CRATE = "stats_tracker"

    attr_reader :target, :abi

    def initialize(target:, version:, cache_home:, cargo_target_dir: ENV.fetch("CARGO_TARGET_DIR"))
      @target = target
      @version = version
      @cache_home = cache_home
      @cargo_target_dir = cargo_target_dir
      @rbconfig = TargetRbConfig.for(target)
      @abi = TargetRbConfig.abi(@rbconfig)
    end

    # The stripped, checked binary for lib/stats_tracker/<abi>/stats_tracker.so.
    def path
      File.join(@cache_home, "native", @version, @target.platform, @abi, "#{CRATE}.so")
    end

    def build
      built = @target.cross? ? cross_compile : host_build
      FileUtils.mkdir_p(File.dirname(path))
      staged = "#{path}.tmp"
      FileUtils.cp(built, staged)
      Rake.sh(@target.strip, "--strip-unneeded", staged)
      glibc = GlibcFloor.check!(staged, objdump: @target.objdump)
      File.rename(staged, path)
      puts "#{@target.platform} extension for Ruby #{@abi}: #{File.size(built)} bytes built, " \
           "#{File.size(path)} stripped, needs glibc #{glibc}"
      path
    ensure
      FileUtils.rm_f(staged) if staged
    end

    def cross_dir
      File.join(@cargo_target_dir, "cross", @target.platform)
    end

    private

    def host_build
      built = File.join(ROOT, "lib", "stats_tracker", "#{CRATE}.so")
      raise "#{built} is missing: run `rake compile`" unless File.exist?(built)

      built
    end

    def cross_compile
      cmd = ["nice", "-n", "10", "cargo", "build", "--release", "--locked", "--target", @target.rust_target,
             "--manifest-path", "ext/stats_tracker/Cargo.toml", "-p", CRATE]
      # The environment holds the whole foreign rbconfig: echo the command, not it.
      puts "CARGO_TARGET_DIR=#{cross_dir} RBCONFIG_*=<#{@target.rbconfig}> #{cmd.join(' ')}"
      Dir.chdir(ROOT) { Rake.sh(cross_env, *cmd, verbose: false) }
      File.join(cross_dir, @target.rust_target, "release", "lib#{CRATE}.so")
    end

    # rb-sys reads a foreign Ruby's configuration from RBCONFIG_* variables once
    # RBCONFIG_CROSS_COMPILING says so (as its own cargo builder passes it); cc, the linker and
    # bindgen get the cross toolchain and its sysroot.
    def cross_env
      triple = @target.rust_target.tr("-", "_")
      env = @rbconfig.to_h { |key, value| ["RBCONFIG_#{key}", value.to_s] }
      env.merge(
        "RBCONFIG_CROSS_COMPILING" => "yes",
        "CARGO_TARGET_DIR" => cross_dir,
        "CARGO_TARGET_#{triple.upcase}_LINKER" => @target.gcc,
        "CC_#{triple}" => @target.gcc,
        "AR_#{triple}" => "#{@target.tool_prefix}ar",
        "BINDGEN_EXTRA_CLANG_ARGS_#{triple}" => "--sysroot=/usr/#{@target.tool_prefix.chomp('-')}"
      )
    end
  end
end
