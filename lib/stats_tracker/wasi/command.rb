# frozen_string_literal: true

module StatsTracker
  module Wasi
    # A WASI p1 command (a module exporting `_start`), compiled once and run any
    # number of times, each run in a fresh sandbox that sees only what #run grants:
    # no host environment, no inherited stdio, no network, only the given dirs.
    class Command
      WASM_MAGIC = "\0asm".b.freeze
      # WAT text: optional whitespace and comments, then "(module".
      WAT_SOURCE = /\A(?:\s+|;;[^\n]*|\(;.*?;\))*\(module\b/m
      DEFAULT_TIMEOUT = 5.0
      DEFAULT_MEMORY_LIMIT = 64 * 1024 * 1024
      DEFAULT_OUTPUT_LIMIT = 1024 * 1024
      # What a guest may write into its writable preopens in one run: bytes written to files,
      # and files, directories and hard links created.
      DEFAULT_WRITE_LIMIT = 64 * 1024 * 1024
      DEFAULT_FILE_LIMIT = 1024

      attr_reader :name

      # path_or_bytes: a path to a .wasm file, the module's bytes, or WAT text.
      def initialize(path_or_bytes, name: nil)
        bytes, default_name = self.class.read(path_or_bytes)
        @name = name || default_name
        @module = Compiled.wasi_module(bytes)
      end

      # args: argv after the program name. dirs: { "guest/path" => "host/path" }.
      # writable: true (every dir), false (none) or the guest paths that may be written.
      # write_limit / file_limit: the run's write quota over its writable dirs. -> Result
      def run(args: [], stdin: "", env: {}, dirs: {}, writable: false, timeout: DEFAULT_TIMEOUT,
              memory_limit: DEFAULT_MEMORY_LIMIT, output_limit: DEFAULT_OUTPUT_LIMIT,
              write_limit: DEFAULT_WRITE_LIMIT, file_limit: DEFAULT_FILE_LIMIT)
        limits = [Limits.timeout(timeout), Limits.byte_count(memory_limit, :memory_limit),
                  Limits.byte_count(output_limit, :output_limit), Limits.byte_count(write_limit, :write_limit),
                  Limits.byte_count(file_limit, :file_limit)]
        exit_code, stdout, stderr = @module.run(@name, strings(args, :args), String(stdin).b,
                                                env_pairs(env), preopens(dirs, writable), limits)
        Result.new(exit_code: exit_code, stdout: stdout, stderr: stderr)
      end

      # -> [bytes, program name]
      def self.read(source)
        source = source.to_path if source.respond_to?(:to_path)
        raise TypeError, "expected a path or module bytes, got #{source.class}" unless source.is_a?(String)

        if source.b.start_with?(WASM_MAGIC) || source.match?(WAT_SOURCE)
          [source.b, "command"]
        else
          [File.binread(source), File.basename(source, ".wasm")]
        end
      end

      private

      def strings(values, what)
        Array(values).map do |value|
          text = String(value)
          raise ArgumentError, "#{what} must not contain NUL bytes" if text.include?("\0")

          text
        end
      end

      def env_pairs(env)
        env.map do |key, value|
          key = String(key)
          raise ArgumentError, "invalid environment variable name #{key.inspect}" if key.empty? || key.match?(/[=\0]/)

          [key, strings([value], :env).first]
        end
      end

      # -> [[guest path, host path, writable], ...]
      def preopens(dirs, writable)
        pairs = dirs.map do |guest, host|
          host = File.expand_path(host.respond_to?(:to_path) ? host.to_path : String(host))
          raise ArgumentError, "not a directory: #{host}" unless File.directory?(host)

          [String(guest), host]
        end
        writable_guests = writable_paths(writable, pairs.map(&:first))
        pairs.map { |guest, host| [guest, host, writable_guests.include?(guest)] }
      end

      def writable_paths(writable, guests)
        case writable
        when true then guests
        when false, nil then []
        when Array
          named = writable.map { |path| String(path) }
          unknown = named - guests
          raise ArgumentError, "writable: names #{unknown.join(', ')}, which dirs: does not preopen" unless unknown.empty?

          named
        else
          raise ArgumentError, "writable: must be true, false or an Array of guest paths, got #{writable.inspect}"
        end
      end
    end
  end
end
