# frozen_string_literal: true

# Per-call overhead alone: the "tiny page" piece of bench/parser.rb (same page, same repeat
# counts, medians of single-call times), without the corpus rounds, so a change to the call
# path can be measured in seconds. Also times 4 threads sharing one Parser on the tiny page
# (per-call wall time / 4 is what a contended call costs) and Wasi::Command on the same page.
#
#   ruby bench/overhead.rb            (BENCH_QUICK=1 for a short run)

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "stats_tracker"
require_relative "lib/bench_support"
require_relative "lib/contenders"

module Bench
  # Prints median µs per call for Parser#package, Wasi::Command and the native core.
  class OverheadBench
    TINY_REPEAT = Bench.scaled(400, min: 50)
    BATCHES = Bench.scaled(5, min: 2)
    THREADS = 4

    def initialize
      @parser = Contenders::GemParser.new
      @command = Contenders::WasiCommand.new
      @native = Contenders::Native.new
      FileUtils.mkdir_p(TMP_DIR)
      @tiny_path = File.join(TMP_DIR, "tiny-package.html")
      File.write(@tiny_path, TINY_PAGE)
      @tiny = TINY_PAGE.b
    end

    def run
      out = Hash.new { |h, k| h[k] = [] }
      TINY_REPEAT.times { @parser.call(@tiny, @tiny_path) } # warm-up
      BATCHES.times do
        TINY_REPEAT.times { out[:parser] << Bench.time { @parser.call(@tiny, @tiny_path) } }
        TINY_REPEAT.times { out[:command] << Bench.time { @command.call(@tiny, @tiny_path) } }
        out[:native].concat(@native.samples(@tiny_path, TINY_REPEAT).last) if @native.available?
        out[:threads] << threaded
      end
      medians = out.transform_values { |s| Bench.median(s) }
      medians.each { |key, value| puts format("%-8s %8.1f µs", key, value * 1e6) }
      puts format("overhead %8.1f µs (parser - native)", (medians[:parser] - medians[:native]) * 1e6) if medians[:native]
    ensure
      @native&.close
    end

    private

    # Wall time per call with THREADS threads calling the one Parser at once.
    def threaded
      calls = TINY_REPEAT
      elapsed = Bench.time do
        Array.new(THREADS) { Thread.new { calls.times { @parser.call(@tiny, @tiny_path) } } }.each(&:join)
      end
      elapsed / (calls * THREADS)
    end
  end
end

Bench::OverheadBench.new.run if $PROGRAM_NAME == __FILE__
