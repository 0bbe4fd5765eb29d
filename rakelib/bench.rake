# frozen_string_literal: true

require "fileutils"
require "rbconfig"

# `rake bench`: every measurement family in one run (parser side by side with the
# native core, Nokogiri and the wasmtime CLI; per-call overhead; cold start; threads; memory;
# the operator at 1,000 Leafs), then one table and bench/RESULTS.md. Each family is a plain
# script (bench/*.rb) run as its own process, so one family's heap or threads cannot skew the
# next. A family that fails is reported as not measured; nothing fails on a number.
# BENCH_QUICK=1 shortens every family.
module BenchTasks
  ROOT = File.expand_path("..", __dir__)
  FAMILIES = {
    parser: "Parser vs Wasi::Command vs native vs Nokogiri vs wasmtime CLI, and per-call overhead",
    cold_start: "New ruby process: require + one parse, module cache warm and cold, vs ruby -e 0",
    threads: "Throughput of one shared Parser with 1, 2 and 4 threads",
    operator: "1,000 Leafs across 10 Projects against the real API server and the page server",
    memory: "RSS after 1k and 100k parses, peak RSS per parse (the longest family)"
  }.freeze
  WASMTIME_VERSION = begin
    require_relative "../bench/lib/wasmtime_version"
    Bench.wasmtime_version(ROOT)
  end
  # The artifacts under test are rebuilt first (incremental); BENCH_NO_BUILD=1 measures
  # whatever is built already (e.g. while someone else's change is half-way in the tree).
  PREREQUISITES = %w[1 true yes].include?(ENV.fetch("BENCH_NO_BUILD", "").downcase) ? [] : %i[wasm compile:ext]

  module_function

  def results_path
    File.join(ROOT, "bench", "tmp", "results.jsonl")
  end

  # Runs bench/<family>.rb, appending its rows to BENCH_RESULTS; a crash becomes a row too.
  def run_family(family, results)
    script = File.join(ROOT, "bench", "#{family}.rb")
    ok = system({ "BENCH_RESULTS" => results }, RbConfig.ruby, script)
    return if ok

    require_relative "../bench/lib/bench_support"
    ENV["BENCH_RESULTS"] = results
    Bench::Results.not_measured(family: family.to_s, name: "bench/#{family}.rb",
                                reason: "the script failed (#{$? || 'exit status unknown'}); see its output above")
  ensure
    ENV.delete("BENCH_RESULTS")
  end

  def report(results, command:, started_at:, load_before:)
    require_relative "../bench/lib/report"
    report = Bench::Report.new(rows: Bench::Results.load(results), command: command, started_at: started_at,
                               finished_at: Time.now, load_before: load_before, load_after: Bench.load_average)
    report.print_table
    puts "wrote #{report.write}"
  end

  def fresh_results
    FileUtils.mkdir_p(File.dirname(results_path))
    FileUtils.rm_f(results_path)
    results_path
  end

  def tools_dir
    File.join(CACHE_HOME, "tools")
  end
end

desc "Run every benchmark family (BENCH_QUICK=1 for a short run); writes bench/RESULTS.md"
task bench: BenchTasks::PREREQUISITES do
  require_relative "../bench/lib/bench_support"
  started_at = Time.now
  load_before = Bench.load_average
  results = BenchTasks.fresh_results
  BenchTasks::FAMILIES.each_key { |family| BenchTasks.run_family(family, results) }
  command = "#{'BENCH_QUICK=1 ' if Bench.quick?}bundle exec rake bench"
  BenchTasks.report(results, command: command, started_at: started_at, load_before: load_before)
end

namespace :bench do
  BenchTasks::FAMILIES.each do |family, description|
    desc description
    task family => BenchTasks::PREREQUISITES do
      BenchTasks.run_family(family, BenchTasks.fresh_results)
    end
  end

  desc "Build the wasmtime CLI #{BenchTasks::WASMTIME_VERSION} into ~/.cache/stats_tracker/tools (long; niced)"
  task :tools do
    root = File.join(BenchTasks.tools_dir, "wasmtime-#{BenchTasks::WASMTIME_VERSION}")
    next puts("#{root}/bin/wasmtime already built") if File.executable?(File.join(root, "bin", "wasmtime"))

    # Only what `wasmtime run` and `wasmtime compile` need: the full default feature set
    # (serve, wasi-nn, winch, ...) roughly doubles a build that already takes most of an hour on 2 cores.
    features = %w[run compile cranelift cache parallel-compilation pooling-allocator component-model].join(",")
    sh({ "CARGO_TARGET_DIR" => File.join(BenchTasks.tools_dir, "build-wasmtime-cli") },
       "nice", "-n", "19", "cargo", "install", "wasmtime-cli", "--version", BenchTasks::WASMTIME_VERSION, "--locked",
       "--root", root, "--no-default-features", "--features", features)
  end
end

namespace :bench do
  desc "Operator soak: LEAFS=n MINUTES=m [SOAK_ALLOCATORS=glibc,arena2,jemalloc]; writes its section of bench/RESULTS.md"
  task soak: BenchTasks::PREREQUISITES do
    ok = system({ "SOAK_WRITE" => "1" }, RbConfig.ruby, File.join(BenchTasks::ROOT, "bench", "soak.rb"))
    abort "bench:soak failed" unless ok
  end

  # The short soak CI runs: small, and it fails when the operator's RSS grows.
  desc "A two-minute soak of 100 Leafs that fails when the operator's RSS is not flat"
  task :soak_check do
    env = { "LEAFS" => ENV.fetch("LEAFS", "100"), "MINUTES" => ENV.fetch("MINUTES", "2"), "SOAK_CHECK" => "1" }
    ok = system(env, RbConfig.ruby, File.join(BenchTasks::ROOT, "bench", "soak.rb"))
    abort "bench:soak_check: the operator's RSS grew during the soak (see above)" unless ok
  end
end
