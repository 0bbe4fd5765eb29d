# frozen_string_literal: true

# Loads the compiled extension (see ExtensionLoader for where it is looked for).
# error.rb must be loaded first: the extension raises the classes defined there.
require_relative "error"
require_relative "extension_loader"
require_relative "cache_off_notice"

StatsTracker::ExtensionLoader.require_extension

module StatsTracker
  # The wasmtime version embedded in the native extension.
  def self.wasmtime_version
    Native.wasmtime_version
  end

  # Argument checks shared by Parser and Wasi::Command.
  module Limits
    module_function

    def timeout(value)
      unless value.is_a?(Numeric) && value.positive? && value.finite?
        raise ArgumentError, "timeout must be a positive number of seconds, got #{value.inspect}"
      end

      value.to_f
    end

    def byte_count(value, name)
      raise ArgumentError, "#{name} must be a positive Integer, got #{value.inspect}" unless value.is_a?(Integer) && value.positive?

      value
    end
  end

  # Compiled artifacts, once per process per distinct content (the extension also
  # keeps them in the on-disk cache across processes). Only the most recently used
  # MAX_ENTRIES of each kind are kept: a process compiling an unbounded stream of
  # distinct modules must not keep all their code. Evicted code stays alive as long as
  # a Parser or Wasi::Command holds it.
  module Compiled
    MAX_ENTRIES = 16
    @mutex = Mutex.new
    @components = {}
    @modules = {}

    class << self
      def component(bytes, sha256: nil)
        memo(@components, bytes, sha256) { Native::ParserComponent.compile(bytes) }
      end

      def wasi_module(bytes, sha256: nil)
        memo(@modules, bytes, sha256) { Native::WasiModule.compile(bytes) }
      end

      # How many compiled artifacts are memoised now.
      def size
        @mutex.synchronize { @components.size + @modules.size }
      end

      private

      def memo(table, bytes, expected)
        digest = Native.sha256_hex(bytes)
        if expected && !expected.to_s.casecmp?(digest)
          raise CompileError, "artifact SHA-256 is #{digest}, expected #{expected}"
        end

        # Compiling releases the GVL; holding the mutex only serialises compiles.
        @mutex.synchronize do
          compiled = table.delete(digest) || yield.tap { CacheOffNotice.check }
          table[digest] = compiled # most recently used last
          table.delete(table.first[0]) while table.size > MAX_ENTRIES
          compiled
        end
      end
    end
  end
end
