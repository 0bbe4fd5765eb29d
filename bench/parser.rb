# frozen_string_literal: true

# Parser throughput, side by side: the gem's Parser, the p1 command under
# Wasi::Command, the native core, Nokogiri, and the wasmtime CLI per page, all on the same
# corpus pages in interleaved rounds (round r runs every contender on every page before round
# r+1 starts), so machine noise hits all of them alike. Per-call overhead uses a tiny page.
#
#   ruby bench/parser.rb            (BENCH_QUICK=1 for a short run)

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "stats_tracker"
require_relative "lib/bench_support"
require_relative "lib/contenders"

module Bench
  # Runs the rounds and reports medians and ratios against StatsTracker::Parser#package.
  class ParserBench
    ROUNDS = Bench.scaled(15, min: 3)
    LARGEST_REPEAT = 10 # calls per round on the largest page, per in-process contender
    CLI_REPEAT = 3      # the CLI spawns a process per call
    TINY_REPEAT = Bench.scaled(400, min: 50)

    def initialize
      @expected = JSON.parse(File.read(File.join(FIXTURES, "expected.json")))
      @pages = Bench.package_fixtures.to_h { |path| [path, File.binread(path)] }
      @contenders = {
        parser: Contenders::GemParser.new, command: Contenders::WasiCommand.new,
        nokogiri: Contenders::Nokogiri.new, cli: Contenders::WasmtimeCli.new
      }
      @native = Contenders::Native.new
      @samples = Hash.new { |h, k| h[k] = Hash.new { |hh, kk| hh[kk] = [] } } # contender => page => [s]
      @wrong = Hash.new { |h, k| h[k] = [] } # contender => pages answered wrongly
      FileUtils.mkdir_p(TMP_DIR)
      @tiny_path = File.join(TMP_DIR, "tiny-package.html")
      File.write(@tiny_path, TINY_PAGE)
    end

    def run
      Bench.log("parser: #{@pages.size} package pages, #{ROUNDS} rounds, load #{Bench.load_average}")
      warm_up
      ROUNDS.times do |round|
        run_round
        Bench.log("parser: round #{round + 1}/#{ROUNDS} done, load #{Bench.load_average}")
      end
      tiny = measure_tiny
      faults = measure_page_faults
      report(tiny)
      report_faults(faults)
    ensure
      @native&.close
    end

    private

    def active
      @contenders.select { |_, c| c.available? }
    end

    def warm_up
      active.each_value { |c| @pages.each { |path, html| c.call(html, path) } }
    end

    def run_round
      @pages.each do |path, html|
        repeat = path == LARGEST_PAGE ? LARGEST_REPEAT : 1
        active.each do |key, contender|
          n = key == :cli ? [repeat, CLI_REPEAT].min : repeat
          n.times { sample(key, path) { contender.call(html, path) } }
        end
        sample_native(path, repeat) if @native.available?
      end
    end

    def sample(key, path)
      answer = nil
      @samples[key][path] << Bench.time { answer = yield }
      check(key, path, answer)
    rescue StandardError => e
      @wrong[key] << "#{File.basename(path)} (#{e.class}: #{e.message[0, 80]})"
    end

    def sample_native(path, repeat)
      total, times = @native.samples(path, repeat)
      @samples[:native][path].concat(times)
      check(:native, path, total)
    end

    def check(key, path, answer)
      want = @expected.dig(File.basename(path), "total_downloads")
      @wrong[key] << File.basename(path) unless answer == want
    end

    # Per-call overhead: instantiate + call dominate on a 79-byte page.
    def measure_tiny
      out = Hash.new { |h, k| h[k] = [] }
      tiny = TINY_PAGE.b
      Bench.scaled(5, min: 2).times do
        TINY_REPEAT.times { out[:parser] << Bench.time { @contenders[:parser].call(tiny, @tiny_path) } }
        TINY_REPEAT.times { out[:command] << Bench.time { @contenders[:command].call(tiny, @tiny_path) } }
        out[:native].concat(@native.samples(@tiny_path, TINY_REPEAT).last) if @native.available?
        if @contenders[:cli].available?
          CLI_REPEAT.times { out[:cli] << Bench.time { @contenders[:cli].call(tiny, @tiny_path) } }
        end
      end
      out.transform_values { |s| Bench.median(s) }
    end

    # Minor page faults per call on the largest page: a fresh Store maps fresh linear memory, and
    # every first touch of a page costs a fault the native core (reusing its heap) does not pay.
    def measure_page_faults
      html = @pages.fetch(LARGEST_PAGE)
      calls = Bench.scaled(50, min: 10)
      out = {}
      before = Bench.minor_faults
      calls.times { @contenders[:parser].call(html, LARGEST_PAGE) }
      out[:parser] = (Bench.minor_faults - before).fdiv(calls)
      if @native.available?
        before = Bench.minor_faults(@native.pid)
        @native.samples(LARGEST_PAGE, calls)
        out[:native] = (Bench.minor_faults(@native.pid) - before).fdiv(calls)
      end
      out
    end

    def report_faults(faults)
      Results.record(family: "overhead", name: "minor page faults per Parser#package call, largest page",
                     value: faults[:parser], unit: "faults",
                     note: faults[:native] ? format("native core: %.1f per call (incl. reading the file)", faults[:native]) : nil)
    end

    def medians(key, paths)
      paths.map { |p| @samples[key][p] }.all?(&:any?) ? paths.sum { |p| Bench.median(@samples[key][p]) } : nil
    end

    def report(tiny)
      largest = [LARGEST_PAGE]
      corpus = @pages.keys
      keys = %i[parser command native nokogiri cli]
      base_largest = medians(:parser, largest)
      base_corpus = medians(:parser, corpus)
      keys.each do |key|
        contender = key == :native ? @native : @contenders[key]
        unless contender.available?
          Results.not_measured(family: "parser", name: "#{contender.label}: largest page", reason: contender.why_not)
          next
        end
        note = @wrong[key].empty? ? nil : "wrong/failed on #{@wrong[key].uniq.size}/#{corpus.size}: #{@wrong[key].uniq.first(3).join(', ')}"
        { "largest page (#{File.size(LARGEST_PAGE) / 1024} KiB)" => [largest, base_largest],
          "corpus pass (#{corpus.size} package pages)" => [corpus, base_corpus] }.each do |what, (paths, base)|
          value = medians(key, paths)
          Results.record(family: "parser", name: "#{contender.label}: #{what}", value: value, unit: "s",
                         ratio: value && base ? value / base : nil, vs: "Parser#package", note: note)
        end
      end
      targets(base_largest, base_corpus, tiny)
    end

    def targets(base_largest, base_corpus, tiny)
      noko = medians(:nokogiri, [LARGEST_PAGE])
      native = medians(:native, [LARGEST_PAGE])
      if noko
        speedup = noko / base_largest
        Results.record(family: "target", name: "Parser#package speed-up over Nokogiri (largest page)", value: speedup,
                       unit: "x", target: ">= 5x", met: speedup >= 5,
                       note: "corpus pass: #{format('%.2fx', medians(:nokogiri, @pages.keys) / base_corpus)}")
      end
      if native
        slowdown = base_largest / native
        Results.record(family: "target", name: "Parser#package time / native (largest page)", value: slowdown,
                       unit: "x", target: "<= 1.5x", met: slowdown <= 1.5,
                       note: "corpus pass: #{format('%.2fx', base_corpus / medians(:native, @pages.keys))}")
      end
      report_tiny(tiny)
    end

    def report_tiny(tiny)
      labels = { parser: "Parser#package", command: "Wasi::Command run", native: "native core", cli: "wasmtime CLI subprocess" }
      tiny.each do |key, value|
        Results.record(family: "overhead", name: "#{labels[key]}: tiny page (#{TINY_PAGE.bytesize} B)", value: value,
                       unit: "s", ratio: value / tiny[:parser], vs: "Parser#package")
      end
      return unless tiny[:native]

      overhead = tiny[:parser] - tiny[:native]
      Results.record(family: "target", name: "per-call overhead (Parser#package - native, tiny page)",
                     value: overhead, unit: "s", target: "<= 50 µs", met: overhead <= 50e-6,
                     note: "Wasi::Command: #{Bench.format_seconds(tiny[:command] - tiny[:native])}; wasmtime-rb peer ≈ 120 µs")
    end
  end
end

Bench::ParserBench.new.run if $PROGRAM_NAME == __FILE__
