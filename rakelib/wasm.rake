# frozen_string_literal: true

require "fileutils"
require "open3"

# The guest artifacts: the parser as a WASI p2 component and as a WASI p1 command, built from
# wasm/ with the `wasm-release` profile, optimised with binaryen's wasm-opt when it is installed,
# and copied to lib/stats_tracker/wasm/ where the gem ships them. File tasks keep a rebuild with
# nothing changed down to a timestamp check.
module WasmBuild
  ROOT = File.expand_path("..", __dir__)
  OUT_DIR = File.join(ROOT, "lib/stats_tracker/wasm")
  MAX_BYTES = 1024 * 1024
  CRATES = %w[ghcr-parser-core ghcr-parser-component ghcr-parser-command].freeze
  # The features rustc enables by default for wasm32 targets; wasm-opt must neither reject
  # them nor introduce others the host might not enable.
  WASM_OPT_FEATURES = %w[--enable-bulk-memory --enable-sign-ext --enable-mutable-globals
                         --enable-nontrapping-float-to-int --enable-multivalue
                         --enable-reference-types].freeze

  Artifact = Struct.new(:crate, :target, :built_name, :out_name, :component, keyword_init: true) do
    def built_path
      File.join(WasmBuild.target_dir, target, "wasm-release", built_name)
    end

    def out_path
      File.join(OUT_DIR, out_name)
    end
  end

  ARTIFACTS = [
    Artifact.new(crate: "ghcr-parser-component", target: "wasm32-wasip2", built_name: "ghcr_parser_component.wasm",
                 out_name: "ghcr_parser.wasm", component: true),
    Artifact.new(crate: "ghcr-parser-command", target: "wasm32-wasip1", built_name: "ghcr_parser_command.wasm",
                 out_name: "ghcr_parser_command.wasm", component: false)
  ].freeze

  module_function

  def target_dir
    ENV.fetch("CARGO_TARGET_DIR") { File.join(ROOT, "target") }
  end

  def sources
    Rake::FileList[*%w[core component command].flat_map { |c| ["wasm/#{c}/Cargo.toml", "wasm/#{c}/src/**/*.rs"] },
                   "wasm/wit/**/*.wit", "Cargo.toml", "Cargo.lock"].map { |f| File.join(ROOT, f) }
      .select { |f| File.exist?(f) }
  end

  def cargo(*args)
    Dir.chdir(ROOT) { Rake.sh("cargo", *args) }
  end

  def build(artifact)
    cargo("build", "--profile", "wasm-release", "--target", artifact.target, "-p", artifact.crate)
    FileUtils.mkdir_p(OUT_DIR)
    staged = "#{artifact.out_path}.tmp"
    optimise(artifact, staged)
    check_size!(staged)
    File.rename(staged, artifact.out_path)
    puts "#{artifact.out_name}: #{File.size(artifact.out_path)} bytes"
  ensure
    FileUtils.rm_f(staged) if staged
  end

  def optimise(artifact, dest)
    wasm_opt = wasm_opt_path
    if wasm_opt.nil?
      puts "wasm-opt not found (Debian package binaryen): copying #{artifact.out_name} unoptimised"
      FileUtils.cp(artifact.built_path, dest)
    elsif artifact.component
      optimise_component(wasm_opt, artifact.built_path, dest)
    else
      run_wasm_opt(wasm_opt, artifact.built_path, dest)
    end
  end

  def wasm_opt_path
    ENV.fetch("PATH", "").split(File::PATH_SEPARATOR).map { |dir| File.join(dir, "wasm-opt") }
       .find { |path| File.executable?(path) }
  end

  def run_wasm_opt(wasm_opt, src, dest)
    Rake.sh(wasm_opt, "-O3", *WASM_OPT_FEATURES, "--strip-debug", "--strip-producers", src, "-o", dest)
  end

  # wasm-opt reads core modules, not components, so the component's main core module (its
  # largest) is optimised on its own and spliced back (see ComponentSections). Imports and
  # exports keep their names, which is all the component's instantiation refers to.
  def optimise_component(wasm_opt, src, dest)
    sections = ComponentSections.parse(File.binread(src))
    main = sections.core_modules.max_by { |s| s[:payload].bytesize }
    Dir.mktmpdir("wasm-opt") do |dir|
      raw = File.join(dir, "main.wasm")
      opt = File.join(dir, "main.opt.wasm")
      File.binwrite(raw, main[:payload])
      run_wasm_opt(wasm_opt, raw, opt)
      main[:payload] = File.binread(opt)
    end
    File.binwrite(dest, sections.encode)
  end

  def check_size!(path)
    size = File.size(path)
    return if size <= MAX_BYTES

    raise "#{File.basename(path, '.tmp')} is #{size} bytes, over the #{MAX_BYTES}-byte budget"
  end

  # The top-level sections of a component binary, enough to swap one core module's bytes.
  class ComponentSections
    HEADER = "\0asm\x0d\x00\x01\x00".b
    CORE_MODULE = 1

    def self.parse(bytes)
      raise "not a component (bad header)" unless bytes.byteslice(0, 8) == HEADER

      sections = []
      pos = 8
      while pos < bytes.bytesize
        id = bytes.getbyte(pos)
        size, pos = read_leb(bytes, pos + 1)
        payload = bytes.byteslice(pos, size)
        raise "component section overruns the file" if payload.nil? || payload.bytesize != size

        sections << { id: id, payload: payload }
        pos += size
      end
      new(sections)
    end

    def self.read_leb(bytes, pos)
      value = 0
      shift = 0
      loop do
        byte = bytes.getbyte(pos) or raise "truncated LEB128 in component"
        value |= (byte & 0x7f) << shift
        pos += 1
        return [value, pos] if byte < 0x80

        shift += 7
      end
    end

    def self.leb(value)
      out = +"".b
      loop do
        byte = value & 0x7f
        value >>= 7
        return out << (byte | (value.zero? ? 0 : 0x80)).chr if value.zero?

        out << (byte | 0x80).chr
      end
    end

    def initialize(sections)
      @sections = sections
    end

    def core_modules
      @sections.select { |s| s[:id] == CORE_MODULE }
    end

    def encode
      @sections.each_with_object(HEADER.dup) do |s, out|
        out << s[:id].chr << self.class.leb(s[:payload].bytesize) << s[:payload]
      end
    end
  end
end

desc "Build the parser guest: lib/stats_tracker/wasm/{ghcr_parser,ghcr_parser_command}.wasm"
task wasm: WasmBuild::ARTIFACTS.map(&:out_path)

WasmBuild::ARTIFACTS.each do |artifact|
  file artifact.out_path => WasmBuild.sources do
    require "tmpdir"
    WasmBuild.build(artifact)
  end
end

namespace :wasm do
  desc "Parser tests, natively (the project corpus, extra cases, the acceptance set if present, unit tests)"
  task :test do
    WasmBuild.cargo("test", "-p", "ghcr-parser-core", "-p", "ghcr-parser-command")
  end

  desc "cargo fmt --check and clippy -D warnings for the parser crates (and the fuzz target)"
  task :lint do
    packages = WasmBuild::CRATES.flat_map { |c| ["-p", c] }
    WasmBuild.cargo("fmt", "--check", *packages)
    WasmBuild.cargo("fmt", "--check", "--manifest-path", "wasm/fuzz/Cargo.toml") if File.exist?(File.join(WasmBuild::ROOT,
                                                                                                          "wasm/fuzz/Cargo.toml"))
    WasmBuild.cargo("clippy", *packages, "--all-targets", "--", "-D", "warnings")
    WasmBuild.cargo("clippy", "-p", "ghcr-parser-component", "--target", "wasm32-wasip2", "--", "-D", "warnings")
  end
end
