# frozen_string_literal: true

require "json"
require_relative "wasmtime_version"
require_relative "../../testing/cache_root"

# Shared plumbing for the bench/*.rb scripts: where things are, how long to run, timing
# and medians, and the JSON-lines result file `rake bench` turns into one table.
# Deliberately free of any benchmarking gem: plain loops, monotonic clock, medians.
module Bench
  ROOT = File.expand_path("../..", __dir__)
  FIXTURES = ENV.fetch("STATS_TRACKER_FIXTURES", File.join(ROOT, "spec", "fixtures", "ghcr"))
  LARGEST_PAGE = File.join(FIXTURES, "package-above-int32-largest.html")
  CACHE_HOME = StatsTracker::Testing::CacheRoot.path
  TOOLS_DIR = File.join(CACHE_HOME, "tools")
  WASMTIME_CLI = File.join(TOOLS_DIR, "wasmtime-#{Bench.wasmtime_version(ROOT)}", "bin", "wasmtime")
  WASMTIME_CLI_BUILD = "(rake bench:tools: cargo install --locked, features run,compile,cranelift,cache," \
                       "parallel-compilation,pooling-allocator,component-model)"
  NATIVE_TARGET_DIR = File.join(CACHE_HOME, "cargo-target-bench")
  NATIVE_BIN = File.join(NATIVE_TARGET_DIR, "release", "ghcr-parser-bench-native")
  TMP_DIR = File.join(ROOT, "bench", "tmp")
  COMMAND_WASM = File.join(ROOT, "lib", "stats_tracker", "wasm", "ghcr_parser_command.wasm")

  # The smallest page the parser accepts with a count: instantiate + call dominate its cost.
  TINY_PAGE = "<html><body><span>Total downloads</span><h3 title=\"42\">42</h3></body></html>"

  module_function

  def quick?
    %w[1 true yes].include?(ENV.fetch("BENCH_QUICK", "").downcase)
  end

  # n in a full run, a tenth (at least min) with BENCH_QUICK=1.
  def scaled(full, min: 1)
    quick? ? [full / 10, min].max : full
  end

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  def time
    started = now
    yield
    now - started
  end

  def median(samples)
    raise ArgumentError, "no samples" if samples.empty?

    sorted = samples.sort
    mid = sorted.size / 2
    sorted.size.odd? ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0
  end

  def package_fixtures
    expected = JSON.parse(File.read(File.join(FIXTURES, "expected.json")))
    expected.select { |_, v| v["kind"] == "package" }.keys.sort.map { |name| File.join(FIXTURES, name) }
  end

  def rss_kib(pid = "self")
    proc_status(pid, "VmRSS")
  end

  def peak_rss_kib(pid = "self")
    proc_status(pid, "VmHWM")
  end

  def proc_status(pid, field)
    File.foreach("/proc/#{pid}/status") do |line|
      return Integer(line.split[1]) if line.start_with?("#{field}:")
    end
    nil
  rescue Errno::ENOENT, Errno::ESRCH
    nil
  end

  # Field 10 of /proc/<pid>/stat (minflt), counted after the parenthesised command name.
  def minor_faults(pid = "self")
    Integer(File.read("/proc/#{pid}/stat").split(") ", 2).last.split[7])
  end

  # Linux: writing 5 to clear_refs resets VmHWM to the current RSS, so a later VmHWM is the
  # peak of what ran in between.
  def reset_peak_rss
    File.write("/proc/self/clear_refs", "5")
    true
  rescue SystemCallError
    false
  end

  def load_average
    File.read("/proc/loadavg").split.first(3).join(" ")
  rescue SystemCallError
    "?"
  end

  def format_seconds(seconds)
    return "-" if seconds.nil?

    size = seconds.abs
    if size < 1e-3 then format("%.1f µs", seconds * 1e6)
    elsif size < 1 then format("%.2f ms", seconds * 1e3)
    else
      format("%.2f s", seconds)
    end
  end

  def log(message)
    warn("[bench #{Time.now.utc.strftime('%H:%M:%S')}] #{message}")
  end

  # One result row. value is seconds for `unit: :s`, otherwise a plain number in `unit`.
  # ratio: a number (the row's ratio against `vs`); target: what the issue asks, as text;
  # met: true/false/nil (nil = not applicable or not measured).
  Row = Struct.new(:family, :name, :value, :unit, :ratio, :vs, :target, :met, :note, keyword_init: true)

  # Appends rows to the JSON-lines file named by BENCH_RESULTS (set by `rake bench`), and
  # always prints them, so each script is useful on its own too.
  module Results
    module_function

    def record(**fields)
      row = Row.new(**fields)
      $stdout.puts(Bench::Table.line(row))
      $stdout.flush
      path = ENV.fetch("BENCH_RESULTS", nil)
      File.open(path, "a") { |f| f.puts(JSON.generate(row.to_h)) } if path
      row
    end

    def not_measured(family:, name:, reason:, target: nil)
      record(family: family, name: name, value: nil, unit: nil, target: target, met: nil, note: "NOT MEASURED: #{reason}")
    end

    def load(path)
      return [] unless File.exist?(path)

      File.readlines(path, chomp: true).reject(&:empty?).map { |l| Row.new(**JSON.parse(l, symbolize_names: true)) }
    end
  end

  # Fixed-width text rendering shared by the scripts and the final report.
  module Table
    module_function

    def value_text(row)
      return "not measured" if row.value.nil?

      case row.unit
      when "s" then Bench.format_seconds(row.value)
      when "%" then format("%+.1f %%", row.value)
      when "KiB" then format("%.1f MiB", row.value / 1024.0)
      when "/s" then format("%.0f /s", row.value)
      when nil, "" then row.value.to_s
      else
        number = row.value.is_a?(Float) ? format("%.2f", row.value) : row.value.to_s
        "#{number} #{row.unit}"
      end
    end

    def ratio_text(row)
      return "" if row.ratio.nil?

      format("%.2fx %s", row.ratio, row.vs)
    end

    def met_text(row)
      case row.met
      when true then "met"
      when false then "MISSED"
      else ""
      end
    end

    def line(row)
      format("%-9s %-66s %13s  %-22s %-10s %-6s %s", row.family, row.name, value_text(row), ratio_text(row),
             row.target.to_s, met_text(row), row.note.to_s).rstrip
    end
  end
end
