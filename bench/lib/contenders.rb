# frozen_string_literal: true

require "json"
require "open3"
require "fileutils"
require_relative "bench_support"

module Bench
  # The ways to get "Total downloads" out of a package page that the parser bench compares.
  # Each answers #call(html, path) -> Integer (or raises) and #available? / #why_not.
  module Contenders
    # 1. What the gem's users call: StatsTracker::Parser#package (a fresh wasm Store per call).
    class GemParser
      def initialize
        @parser = StatsTracker::Parser.new
      end

      def label = "StatsTracker::Parser#package"
      def available? = true

      def call(html, _path)
        @parser.package(html).total_downloads
      end
    end

    # 2. The same parser core as a WASI p1 command run by StatsTracker::Wasi::Command,
    # page on stdin, JSON on stdout.
    class WasiCommand
      def initialize
        @command = StatsTracker::Wasi::Command.new(COMMAND_WASM)
      end

      def label = "Wasi::Command + p1 command (stdin)"
      def available? = true

      def call(html, _path)
        result = @command.run(args: %w[--kind package], stdin: html)
        raise "command exited #{result.exit_code}: #{result.stderr}" unless result.exit_code.zero?

        JSON.parse(result.stdout).fetch("total_downloads")
      end
    end

    # 4. What a Rubyist would write instead: libxml2 via Nokogiri, one XPath for the count.
    class Nokogiri
      def initialize
        require "nokogiri"
        @available = true
      rescue LoadError => e
        @available = false
        @why_not = "nokogiri not installed (#{e.message})"
      end

      attr_reader :why_not

      def label = "Nokogiri::HTML + XPath"
      def available? = @available

      QUERY = '//span[normalize-space(.)="Total downloads"]/following-sibling::h3[1]/@title'

      def call(html, _path)
        title = ::Nokogiri::HTML(html).at_xpath(QUERY)&.value
        title && Integer(title.delete(","), 10)
      end
    end

    # 3. The same core compiled natively (bench/native, release, the guest's codegen settings).
    # Driven over a pipe so its rounds interleave with the others; it times each call itself.
    class Native
      def self.build
        manifest = File.join(ROOT, "bench", "native", "Cargo.toml")
        env = { "CARGO_TARGET_DIR" => NATIVE_TARGET_DIR }
        out, status = Open3.capture2e(env, "nice", "-n", "10", "cargo", "build", "--release", "--quiet",
                                      "--manifest-path", manifest)
        [status.success?, out]
      end

      def initialize
        ok, out = self.class.build
        @why_not = "bench/native failed to build: #{out.lines.last(5).join}" unless ok
        @io = IO.popen([NATIVE_BIN], "r+") if ok
      end

      attr_reader :why_not

      def label = "native core (bench/native --release)"
      def available? = !@io.nil?

      # -> [total, [seconds, ...]]
      def samples(path, iterations)
        @io.puts("#{iterations} #{path}")
        status, value, *times = @io.gets.to_s.split
        raise "native bench: #{[status, value, *times].join(' ')}" unless status == "ok"

        [Integer(value), times.map { |ns| Integer(ns) / 1e9 }]
      end

      def pid = @io&.pid

      def close
        @io&.close
      end
    end

    # 5. Shelling out: the wasmtime CLI (pinned to the embedded version) run per page, on the
    # command module precompiled once with `wasmtime compile` (its best case).
    class WasmtimeCli
      def initialize
        unless File.executable?(WASMTIME_CLI)
          @why_not = "#{WASMTIME_CLI} not built (cargo install wasmtime-cli #{Bench.wasmtime_version(ROOT)} did not finish; see rake bench:tools)"
          return
        end

        FileUtils.mkdir_p(TMP_DIR)
        @cwasm = File.join(TMP_DIR, "ghcr_parser_command.cwasm")
        out, status = Open3.capture2e(WASMTIME_CLI, "compile", "-o", @cwasm, COMMAND_WASM)
        @why_not = "wasmtime compile failed: #{out}" unless status.success?
      end

      attr_reader :why_not

      def label = "wasmtime CLI subprocess (precompiled .cwasm)"
      def available? = @why_not.nil?

      def version
        out, = Open3.capture2(WASMTIME_CLI, "--version")
        out.strip
      end

      def call(_html, path)
        out, status = Open3.capture2(WASMTIME_CLI, "run", "--allow-precompiled", @cwasm, "--kind", "package",
                                     stdin_data: File.binread(path))
        raise "wasmtime run failed (#{status})" unless status.success?

        JSON.parse(out).fetch("total_downloads")
      end
    end
  end
end
