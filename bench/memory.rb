# frozen_string_literal: true

# Memory: the peak RSS one parse of the largest page adds, then RSS after 1k
# and after 100k parses in this one process (growth %). The long loop cycles through the
# corpus package pages on two threads sharing one Parser (calls release the GVL, so this
# halves the wall time on two cores without changing what is measured).
#
#   ruby bench/memory.rb            (BENCH_QUICK=1: 10k parses; BENCH_MEMORY_PARSES=N to choose)

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "stats_tracker"
require_relative "lib/bench_support"

module Bench
  # RSS from /proc/self/status; peak per parse via a VmHWM reset (clear_refs 5).
  class MemoryBench
    FIRST = 1_000
    TOTAL = Integer(ENV.fetch("BENCH_MEMORY_PARSES", Bench.quick? ? 10_000 : 100_000))
    THREADS = 2
    PROGRESS_EVERY = 10_000

    def initialize
      @parser = StatsTracker::Parser.new
      @pages = Bench.package_fixtures.map { |path| File.binread(path) }
      @largest = File.binread(LARGEST_PAGE)
      @done = 0
      @lock = Mutex.new
    end

    def run
      Bench.log("memory: peak per parse, then #{TOTAL} parses on #{THREADS} threads, load #{Bench.load_average}")
      peak_per_parse
      after_first = parse_until(FIRST)
      checkpoints = { FIRST => after_first }
      started = Bench.now
      (PROGRESS_EVERY..TOTAL).step(PROGRESS_EVERY).each do |target|
        checkpoints[target] = parse_until(target)
        rate = (@done - FIRST) / (Bench.now - started)
        Bench.log(format("memory: %d/%d parses, RSS %.1f MiB, %.0f parses/s, load %s", @done, TOTAL,
                         checkpoints[target] / 1024.0, rate, Bench.load_average))
      end
      checkpoints[TOTAL] ||= parse_until(TOTAL)
      report(checkpoints)
    end

    private

    def peak_per_parse
      @parser.package(Bench::TINY_PAGE.b)
      @parser.package(@largest)
      deltas = Array.new(Bench.scaled(9, min: 3)) do
        GC.start
        before = Bench.rss_kib
        next nil unless Bench.reset_peak_rss

        @parser.package(@largest)
        Bench.peak_rss_kib - before
      end
      if deltas.any?(&:nil?)
        Results.not_measured(family: "memory", name: "peak RSS added by one parse of the largest page",
                             reason: "/proc/self/clear_refs not writable: VmHWM cannot be reset")
      else
        Results.record(family: "memory", name: "peak RSS added by one parse of the largest page",
                       value: Bench.median(deltas), unit: "KiB",
                       note: "VmHWM - VmRSS before the call, median of #{deltas.size}; page #{@largest.bytesize / 1024} KiB")
      end
    end

    # Parses (round-robin over the corpus) until `target` parses are done in total -> RSS KiB.
    def parse_until(target)
      Array.new(THREADS) do
        Thread.new do
          loop do
            index = @lock.synchronize { @done < target ? (@done += 1) : nil }
            break unless index

            @parser.package(@pages[index % @pages.size])
          end
        end
      end.each(&:join)
      Bench.rss_kib
    end

    def report(checkpoints)
      first = checkpoints.fetch(FIRST)
      last = checkpoints.fetch(TOTAL)
      Results.record(family: "memory", name: "RSS after #{FIRST} parses", value: first, unit: "KiB")
      Results.record(family: "memory", name: "RSS after #{TOTAL} parses", value: last, unit: "KiB",
                     note: checkpoints.except(FIRST, TOTAL).map { |n, kib| format("%dk: %.1f MiB", n / 1000, kib / 1024.0) }.join(", "))
      growth = (last - first) * 100.0 / first
      Results.record(family: "target", name: "RSS growth #{FIRST} -> #{TOTAL} parses", value: growth, unit: "%",
                     target: "<= 5 %", met: growth <= 5.0, note: ("issue asks 100k; this run did #{TOTAL}" if TOTAL < 100_000))
    end
  end
end

Bench::MemoryBench.new.run if $PROGRAM_NAME == __FILE__
