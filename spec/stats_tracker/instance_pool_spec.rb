# frozen_string_literal: true

require "json"
require "open3"
require "rbconfig"
require_relative "../fixtures/guests/build"

# Guest instances come from wasmtime's pooling allocator: STATS_TRACKER_POOL_SLOTS (default
# 64) stores at once, each able to grow to 4 GiB; a call beyond that waits for a slot. The
# pool is made once per process, so each example runs a child with the setting it needs.
RSpec.describe "the instance pool" do
  let(:hostile) { GuestBuild.component("hostile_component") }
  let(:package_page) { File.join(GHCR_FIXTURES, "package-small-42.html") }

  def child(code, slots: nil, deadline: 120, address_space_kib: nil)
    script = <<~RUBY
      require "json"
      require "stats_tracker"
      def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      #{code}
    RUBY
    env = slots.nil? ? {} : { "STATS_TRACKER_POOL_SLOTS" => slots.to_s }
    lib = File.expand_path("../../lib", __dir__)
    limit = address_space_kib ? ["sh", "-c", "ulimit -v #{address_space_kib} && exec \"$@\"", "sh"] : []
    out, err, status = Open3.capture3(env, *limit, "timeout", "--signal=KILL", deadline.to_s,
                                      RbConfig.ruby, "-I", lib, "-e", script)
    raise "child failed (#{status}): #{err}" unless status.success?

    JSON.parse(out.lines.last)
  end

  it "is on by default with 64 slots, and off with STATS_TRACKER_POOL_SLOTS=0 (same answers)" do
    code = <<~RUBY
      parser = StatsTracker::Parser.new
      puts JSON.generate([StatsTracker::Native.pool_slots, parser.package(File.binread(#{package_page.dump})).total_downloads])
    RUBY
    expect(child(code)).to eq([64, 42])
    expect(child(code, slots: 0)).to eq([0, 42])
  end

  it "falls back to per-call allocation when the pool's address space cannot be reserved" do
    # 64 slots reserve about 520 GiB of address space (nothing of it resident); 8 GiB is
    # enough for Ruby and for one per-call instance (4 GiB reservation + guard).
    result = child(<<~RUBY, address_space_kib: 8 * 1024 * 1024)
      parser = StatsTracker::Parser.new
      puts JSON.generate([StatsTracker::Native.pool_slots, parser.package(File.binread(#{package_page.dump})).total_downloads])
    RUBY
    expect(result).to eq([0, 42])
  end

  it "serves more threads than slots: the extra calls wait for a slot instead of failing" do
    result = child(<<~RUBY, slots: 2)
      parser = StatsTracker::Parser.new
      html = File.binread(#{package_page.dump})
      answers = Array.new(12) { Thread.new { Array.new(20) { parser.package(html).total_downloads } } }.flat_map(&:value)
      puts JSON.generate([StatsTracker::Native.pool_slots, answers.size, answers.uniq])
    RUBY
    expect(result).to eq([2, 240, [42]])
  end

  it "times a call out, or lets it be killed, while it waits for a slot; slots come back after failures" do
    result = child(<<~RUBY, slots: 1)
      hog = StatsTracker::Parser.new(component: #{hostile.dump}, timeout: 1.5)
      quick = StatsTracker::Parser.new(component: #{hostile.dump}, timeout: 0.2)
      holder = Thread.new { hog.package("spin") rescue $! } # holds the only slot for 1.5 s
      sleep 0.1 until holder.status == "sleep"
      started = monotonic
      waited = begin
        quick.package("ok")
        "no error"
      rescue StatsTracker::TimeoutError => e
        [e.message, monotonic - started]
      end
      waiter = Thread.new { quick.package("ok") }
      sleep 0.02 until waiter.status == "sleep"
      waiter.kill
      killed = waiter.join(2) ? waiter.status : "still waiting"
      held = holder.value.class.name
      # Every failure kind above returned its slot: with one slot, a leak would make these wait and
      # time out. Trap and grow get a roomy deadline so a loaded machine cannot turn them into timeouts.
      roomy = StatsTracker::Parser.new(component: #{hostile.dump}, timeout: 5)
      after = [[roomy, "trap"], [roomy, "grow"], [quick, "spin"]].map do |parser, what|
        parser.package(what)
      rescue StatsTracker::Error => e
        e.class.name
      end
      puts JSON.generate([waited, killed, held, after, quick.package("four").total_downloads])
    RUBY
    (message, seconds), killed, held, after, four = result
    expect(message).to match(/timeout of 0.2s waiting for one of 1 instance slots/)
    expect(seconds).to be_between(0.2, 1.4)
    expect(killed).to be(false)
    expect(held).to eq("StatsTracker::TimeoutError")
    expect(after).to eq(%w[StatsTracker::TrapError StatsTracker::ResourceLimitError StatsTracker::TimeoutError])
    expect(four).to eq(4)
  end

  it "lets memory grow to memory_limit: pool slots allow the full 4 GiB of a wasm32 memory" do
    result = child(<<~RUBY)
      limits = [256 * 1024 * 1024, 4 * 1024**3, 2**40]
      outcome = limits.map do |limit|
        parser = StatsTracker::Parser.new(component: #{hostile.dump}, memory_limit: limit, timeout: 30.0)
        ok = parser.package("four").total_downloads
        [ok, limit == limits.first ? (parser.package("grow") rescue $!).message : nil]
      end
      puts JSON.generate(outcome)
    RUBY
    # The 256 MiB guest really grew to our limit (a pool slot capped below it would have
    # failed the allocation earlier and shown up as a trap, not as the limit).
    expect(result.first).to eq([4, "guest exceeded memory_limit of 268435456 bytes"])
    expect(result.drop(1)).to eq([[4, nil], [4, nil]])
  end

  # Why the extension does not report guest memory to Ruby's GC (rb_gc_adjust_memory_usage):
  # no Ruby object owns it. The Store is dropped before the call returns, and the pool
  # slot is reset (all but 64 KiB given back to the kernel) at that moment.
  it "gives a guest's memory back before the call returns" do
    result = child(<<~RUBY, deadline: 60)
      def kib(field) = File.read("/proc/self/status")[/^\#{field}:\\s+(\\d+)/, 1].to_i
      parser = StatsTracker::Parser.new(component: #{hostile.dump}, memory_limit: 256 * 1024 * 1024)
      parser.package("warm")
      before = kib("VmRSS")
      error = (parser.package("grow") rescue $!).class.name
      puts JSON.generate([error, kib("VmHWM") - before, kib("VmRSS") - before])
    RUBY
    error, peak_growth, kept = result
    expect(error).to eq("StatsTracker::ResourceLimitError")
    expect(peak_growth).to be > 200 * 1024 # the guest really touched ~256 MiB
    expect(kept).to be < 16 * 1024         # and none of it outlived the call
  end

  it "keeps working in a forked child: the pool and the epoch ticker survive fork" do
    skip "no fork here" unless Process.respond_to?(:fork)
    result = child(<<~RUBY)
      parser = StatsTracker::Parser.new
      looping = StatsTracker::Parser.new(component: #{hostile.dump}, timeout: 0.2)
      html = File.binread(#{package_page.dump})
      parent = parser.package(html).total_downloads
      reader, writer = IO.pipe
      pid = fork do
        reader.close
        timed_out = begin; looping.package("spin"); rescue StatsTracker::TimeoutError; true; end
        writer.write(JSON.generate([parser.package(html).total_downloads, timed_out]))
        writer.close
        exit!(0)
      end
      writer.close
      from_child = JSON.parse(reader.read)
      Process.wait(pid)
      puts JSON.generate([parent, from_child, $?.success?, parser.package(html).total_downloads])
    RUBY
    expect(result).to eq([42, [42, true], true, 42])
  end
end
