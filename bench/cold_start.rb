# frozen_string_literal: true

# Cold start: a new `ruby` process that requires the gem and parses the
# largest page once, with the compiled-module cache warm (a primed STATS_TRACKER_CACHE_DIR)
# and cold (an empty one each run), against `ruby -e 0`; Nokogiri's equivalent for context.
# Contenders alternate within each round.
#
#   ruby bench/cold_start.rb        (BENCH_QUICK=1 for a short run)

require "tmpdir"
require "fileutils"
require "rbconfig"
require_relative "lib/bench_support"

module Bench
  # Wall time of whole processes, spawned one after the other, medians per contender.
  class ColdStartBench
    ROUNDS = Bench.scaled(12, min: 3)
    PARSE = 'require "stats_tracker"; StatsTracker::Parser.new.package(File.binread(ARGV.fetch(0)))'
    NOKOGIRI = 'require "nokogiri"; Nokogiri::HTML(File.binread(ARGV.fetch(0))).at_xpath(ARGV.fetch(1))'

    def initialize
      @ruby = RbConfig.ruby
      @lib = File.join(ROOT, "lib")
      @primed = Dir.mktmpdir("stats-tracker-bench-cache-")
      @scratch = Dir.mktmpdir("stats-tracker-bench-cold-")
    end

    def run
      Bench.log("cold start: #{ROUNDS} rounds, load #{Bench.load_average}")
      prime
      samples = Hash.new { |h, k| h[k] = [] }
      @cpu = Hash.new { |h, k| h[k] = [] }
      ROUNDS.times do |round|
        samples[:ruby] << spawn_time({}, "-e", "0", key: :ruby)
        samples[:require] << spawn_time({}, "-I", @lib, "-e", 'require "stats_tracker"', key: :require)
        samples[:net_http] << spawn_time({}, "-e", 'require "net/http"; require "openssl"', key: :net_http)
        samples[:warm] << spawn_time({ "STATS_TRACKER_CACHE_DIR" => @primed }, "-I", @lib, "-e", PARSE, LARGEST_PAGE, key: :warm)
        samples[:cold] << cold_run
        samples[:nokogiri] << spawn_time({}, "-e", NOKOGIRI, LARGEST_PAGE, NOKOGIRI_QUERY, key: :nokogiri)
        Bench.log("cold start: round #{round + 1}/#{ROUNDS}") if ((round + 1) % 5).zero?
      end
      report(samples.transform_values { |s| Bench.median(s) })
    ensure
      FileUtils.rm_rf([@primed, @scratch])
    end

    # Same XPath as the in-process Nokogiri contender (bench/lib/contenders.rb).
    NOKOGIRI_QUERY = '//span[normalize-space(.)="Total downloads"]/following-sibling::h3[1]/@title'

    private

    def prime
      spawn_time({ "STATS_TRACKER_CACHE_DIR" => @primed }, "-I", @lib, "-e", PARSE, LARGEST_PAGE)
      entries = Dir.glob(File.join(@primed, "**", "*")).count { |f| File.file?(f) }
      raise "priming wrote nothing to #{@primed}: is STATS_TRACKER_CACHE_DIR honoured?" if entries.zero?
    end

    def cold_run
      dir = File.join(@scratch, "empty")
      FileUtils.rm_rf(dir)
      FileUtils.mkdir_p(dir)
      spawn_time({ "STATS_TRACKER_CACHE_DIR" => dir }, "-I", @lib, "-e", PARSE, LARGEST_PAGE, key: :cold)
    end

    # Wall seconds; with key:, also the child's CPU seconds (user + sys), which a loaded
    # machine disturbs far less than wall time.
    def spawn_time(env, *args, key: nil)
      cpu_before = children_cpu
      started = Bench.now
      pid = Process.spawn(env, @ruby, *args, out: File::NULL, err: File::NULL)
      _, status = Process.wait2(pid)
      elapsed = Bench.now - started
      @cpu[key] << (children_cpu - cpu_before) if key
      raise "#{args.join(' ')[0, 80]} failed: #{status}" unless status.success?

      elapsed
    end

    def children_cpu
      times = Process.times
      times.cutime + times.cstime
    end

    def report(med)
      cpu = @cpu.transform_values { |s| Bench.median(s) }
      base = med[:ruby]
      rows = { ruby: "ruby -e 0", require: "require \"stats_tracker\" only (no Parser, no parse)",
               net_http: "require \"net/http\" + openssl only (what the fetcher pulls in)", warm: "require + Parser.new + 1 parse, module cache warm",
               cold: "require + Parser.new + 1 parse, module cache cold (empty dir)",
               nokogiri: "require nokogiri + 1 parse + XPath (context)" }
      rows.each do |key, label|
        Results.record(family: "cold", name: label, value: med[key], unit: "s", ratio: med[key] / base, vs: "ruby -e 0",
                       note: "CPU #{Bench.format_seconds(cpu[key])}" +
                             (if key == :ruby
                                ""
                              else
                                "; #{Bench.format_seconds(med[key] - base)} over ruby -e 0 " \
                                  "(CPU #{Bench.format_seconds(cpu[key] - cpu[:ruby])})"
                              end))
      end
      beyond = med[:warm] - base
      Results.record(family: "target", name: "cold start, warm cache, beyond ruby -e 0", value: beyond, unit: "s",
                     target: "<= 10 ms", met: beyond <= 0.010,
                     note: "wall; includes one parse of the largest page; cold cache: #{Bench.format_seconds(med[:cold] - base)}")
      cpu_beyond = cpu[:warm] - cpu[:ruby]
      Results.record(family: "target", name: "cold start, warm cache, beyond ruby -e 0 (CPU time)", value: cpu_beyond,
                     unit: "s", target: "<= 10 ms", met: cpu_beyond <= 0.010,
                     note: "user+sys of the child, less sensitive to the machine's load; cold cache: #{Bench.format_seconds(cpu[:cold] - cpu[:ruby])}")
    end
  end
end

Bench::ColdStartBench.new.run if $PROGRAM_NAME == __FILE__
