# frozen_string_literal: true

require "rbconfig"

module StatsTracker
  # Finds the compiled extension in the three places it can be: next to this file (a checkout
  # after `rake compile`), under <ruby major.minor>/ (a precompiled platform gem, one binary
  # per Ruby ABI, the layout rake-compiler uses), or in the extension dir where RubyGems puts a
  # source gem's build. A platform gem without a binary for the running Ruby says so, instead
  # of a bare "cannot load such file".
  module ExtensionLoader
    NAME = "stats_tracker"
    SOURCE_GEM_HINT = "`gem install stats_tracker --platform ruby` " \
                      "(needs cargo and rustc >= 1.85, libclang and the Ruby headers)"

    module_function

    def require_extension(dir: __dir__, ruby_version: RUBY_VERSION)
      checkout = File.join(dir, library)
      return require(checkout) if File.exist?(checkout)

      abi = ruby_version[/\A\d+\.\d+/]
      prebuilt = File.join(dir, abi, library)
      return require_prebuilt(prebuilt, abi) if File.exist?(prebuilt)

      shipped = prebuilt_abis(dir)
      raise LoadError, no_binary_message(abi, shipped) unless shipped.empty?

      require "#{NAME}/#{NAME}"
    end

    def library
      "#{NAME}.#{RbConfig::CONFIG.fetch('DLEXT')}"
    end

    def prebuilt_abis(dir)
      Dir.glob(File.join(dir, "*", library)).map { |path| File.basename(File.dirname(path)) }.sort
    end

    # A binary that is there but does not load (another CPU, an older glibc) keeps the
    # dynamic loader's message and adds the way out.
    def require_prebuilt(path, abi)
      require path
    rescue LoadError => e
      raise LoadError, "#{e.message}\nthe prebuilt extension for Ruby #{abi} does not load on this system; " \
                       "install the source gem, which compiles it: #{SOURCE_GEM_HINT}"
    end

    def no_binary_message(abi, shipped)
      "this stats_tracker gem has prebuilt extensions for Ruby #{shipped.join(', ')} only, not for Ruby #{abi}; " \
        "install the source gem, which compiles the extension: #{SOURCE_GEM_HINT}"
    end
  end
end
