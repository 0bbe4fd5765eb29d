# frozen_string_literal: true

require "English"
require "rbconfig"

module NativeGem
  # One platform gem: the RubyGems platform it is published for, the Rust target its extension
  # is compiled for, the binutils that read and strip it, and the Ruby whose headers and
  # rbconfig it is compiled against (the running one, or a foreign one from Debian multiarch).
  Target = Struct.new(:platform, :rust_target, :tool_prefix, :rbconfig, keyword_init: true) do
    def cross?
      !rbconfig.nil?
    end

    def objdump
      "#{tool_prefix}objdump"
    end

    def strip
      "#{tool_prefix}strip"
    end

    def gcc
      "#{tool_prefix}gcc"
    end
  end

  TARGETS = {
    "x86_64-linux" => Target.new(platform: "x86_64-linux", rust_target: "x86_64-unknown-linux-gnu", tool_prefix: "",
                                 rbconfig: nil),
    # Debian's arm64 Ruby, installed next to the host's by `bin/setup --cross` (multiarch).
    "aarch64-linux" => Target.new(platform: "aarch64-linux", rust_target: "aarch64-unknown-linux-gnu",
                                  tool_prefix: "aarch64-linux-gnu-",
                                  rbconfig: "/usr/lib/aarch64-linux-gnu/ruby/3.1.0/rbconfig.rb")
  }.freeze

  # RbConfig::CONFIG of the Ruby a target is built for: the running Ruby's, or a foreign
  # rbconfig.rb loaded in a child Ruby (it redefines RbConfig, so not in this process).
  module TargetRbConfig
    module_function

    def for(target)
      return RbConfig::CONFIG.dup unless target.cross?
      raise "#{target.rbconfig} is missing: run `bin/setup --cross`" unless File.exist?(target.rbconfig)

      dump = IO.popen([RbConfig.ruby, "--disable-gems", "-e",
                       "load ARGV[0]; $stdout.binmode; $stdout.write(Marshal.dump(RbConfig::CONFIG))",
                       target.rbconfig], "rb", &:read)
      raise "loading #{target.rbconfig} failed" unless $CHILD_STATUS.success?

      Marshal.load(dump) # rubocop:disable Security/MarshalLoad -- written just now by our own child
    end

    # "3.1" for the ABI directory in lib/stats_tracker/<abi>/.
    def abi(config)
      "#{config.fetch('MAJOR')}.#{config.fetch('MINOR')}"
    end
  end
end
