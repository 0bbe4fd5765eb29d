# frozen_string_literal: true

# Threads: parses per second of the largest page with 1, 2 and 4 Ruby threads
# sharing one Parser (each call releases the GVL). The thread counts alternate within each
# round; the same number of parses is split over the threads.
#
#   ruby bench/threads.rb           (BENCH_QUICK=1 for a short run)

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "etc"
require "stats_tracker"
require_relative "lib/bench_support"

module Bench
  # Throughput of one shared Parser under 1, 2, 4 threads; median of rounds.
  class ThreadsBench
    ROUNDS = Bench.scaled(7, min: 2)
    PARSES = Bench.scaled(96, min: 24) # per round and thread count; divisible by 1, 2, 4
    COUNTS = [1, 2, 4].freeze

    def initialize
      @parser = StatsTracker::Parser.new
      @html = File.binread(LARGEST_PAGE)
    end

    def run
      Bench.log("threads: #{ROUNDS} rounds x #{PARSES} parses per count, #{Etc.nprocessors} CPUs, load #{Bench.load_average}")
      @parser.package(@html)
      rates = Hash.new { |h, k| h[k] = [] }
      @cores = Hash.new { |h, k| h[k] = [] }
      ROUNDS.times do |round|
        COUNTS.each { |n| rates[n] << (PARSES / timed(n)) }
        Bench.log("threads: round #{round + 1}/#{ROUNDS}, load #{Bench.load_average}")
      end
      report(rates.transform_values { |r| Bench.median(r) })
    end

    private

    # Wall seconds for one batch; also records the CPU cores the process used meanwhile (above
    # 1.0 only if the calls really run in parallel, i.e. the GVL is released).
    def timed(count)
      cpu = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
      wall = Bench.time { parse_with(count) }
      @cores[count] << ((Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - cpu) / wall)
      wall
    end

    def parse_with(count)
      per_thread = PARSES / count
      Array.new(count) { Thread.new { per_thread.times { @parser.package(@html) } } }.each(&:join)
    end

    def report(rate)
      COUNTS.each do |n|
        Results.record(family: "threads", name: "#{n} thread#{'s' unless n == 1}, largest page, one shared Parser",
                       value: rate[n], unit: "/s", ratio: rate[n] / rate[1], vs: "1 thread",
                       note: format("process used %.2f cores (median); %d CPUs", Bench.median(@cores[n]), Etc.nprocessors))
      end
      scaling = rate[2] / rate[1]
      Results.record(family: "target", name: "2 threads / 1 thread throughput", value: scaling, unit: "x",
                     target: ">= 1.8x", met: scaling >= 1.8,
                     note: "machine shared with other builds (load #{Bench.load_average}): scaling is capped by free cores")
    end
  end
end

Bench::ThreadsBench.new.run if $PROGRAM_NAME == __FILE__
