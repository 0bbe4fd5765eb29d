# frozen_string_literal: true

require "fileutils"
require "open3"
require "rbconfig"

module NativeGem
  # A user's machine in miniature, inside a scratch directory: the unbundled environment, a
  # private GEM_HOME that still sees the system gem dirs (kubeclient comes from Debian), and,
  # with `toolchain: false`, a PATH holding only ruby, gem and bundle, so anything that tried to
  # compile would fail.
  class UserInstall
    COMPILERS = %w[cargo rustc cc gcc c++ clang make].freeze
    TOOLS = %w[ruby gem bundle].freeze
    # RubyGems' own reproducible-build date (1980-01-02).
    FIXED_SOURCE_DATE_EPOCH = "315619200"

    attr_reader :gem_home, :dir

    def initialize(scratch, toolchain:)
      @dir = scratch
      @gem_home = File.join(scratch, "gems")
      @toolchain = toolchain
      # Read now: #env is first built inside Bundler.with_unbundled_env, which drops the
      # CARGO_TARGET_DIR the Rakefile set, and the source gem would then build wasmtime cold.
      @cargo_base = ENV.fetch("CARGO_TARGET_DIR", nil)
      FileUtils.mkdir_p(@gem_home)
    end

    def env
      @env ||= {
        "GEM_HOME" => gem_home, "GEM_PATH" => [gem_home, *system_gem_path].uniq.join(File::PATH_SEPARATOR),
        "PATH" => [File.join(gem_home, "bin"), *search_path].join(File::PATH_SEPARATOR),
        "CARGO_TARGET_DIR" => cargo_target_dir,
        "STATS_TRACKER_CACHE_DIR" => File.join(dir, "module-cache"), "BUNDLE_USER_HOME" => File.join(dir, "bundle-home"),
        "SOURCE_DATE_EPOCH" => FIXED_SOURCE_DATE_EPOCH
      }
    end

    # Compilers this environment's PATH would find (none, for a toolchain-free one).
    def compilers_on_path
      dirs = env.fetch("PATH").split(File::PATH_SEPARATOR)
      COMPILERS.select { |tool| dirs.any? { |d| File.executable?(File.join(d, tool)) } }
    end

    # Whether the source gem's cargo build starts from a release build of an earlier install:
    # read before #install, since it decides whether the install takes a minute or ten.
    def cargo_target_state
      return "no CARGO_TARGET_DIR: cargo's own target dir" unless cargo_target_dir

      File.directory?(File.join(cargo_target_dir, "release")) ? "warm CARGO_TARGET_DIR" : "cold CARGO_TARGET_DIR"
    end

    # `gem install --local FILE`. -> seconds it took
    def install(gem_file)
      timed { run!(RbConfig.ruby, "-S", "gem", "install", "--local", "--no-document", gem_file, chdir: dir) }
    end

    def run!(*cmd, chdir:, extra_env: {})
      puts "+ #{cmd.join(' ')}"
      out, err, status = clean { Open3.capture3(env.merge(extra_env), *cmd, chdir: chdir) }
      raise "#{cmd.first(3).join(' ')} failed (#{status}):\n#{out}#{err}" unless status.success?

      out
    end

    private

    # RubyGems sets SOURCE_DATE_EPOCH (to the current time, unless given) while it builds an
    # extension, and the cc crate's build scripts rerun when it changes, taking wasmtime with them.
    # A fixed value and a target dir apart from `rake compile`'s (which runs without it) keep both
    # warm from one run to the next.
    def cargo_target_dir
      @cargo_base && File.join(@cargo_base, "gem-install")
    end

    def timed
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      yield
      Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    end

    def search_path
      return ENV.fetch("PATH").split(File::PATH_SEPARATOR) if @toolchain

      bin = File.join(dir, "bin")
      FileUtils.mkdir_p(bin)
      TOOLS.each do |tool|
        found = tool == "ruby" ? RbConfig.ruby : which(tool)
        FileUtils.ln_sf(found, File.join(bin, tool)) if found
      end
      [bin]
    end

    def which(tool)
      ENV.fetch("PATH").split(File::PATH_SEPARATOR).map { |d| File.join(d, tool) }.find { |p| File.executable?(p) }
    end

    def system_gem_path
      @system_gem_path ||= clean { IO.popen([RbConfig.ruby, "-e", "puts Gem.path"], &:read).split("\n") }
    end

    def clean(&)
      defined?(Bundler) ? Bundler.with_unbundled_env(&) : yield
    end
  end
end
