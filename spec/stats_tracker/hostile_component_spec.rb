# frozen_string_literal: true

require "open3"
require "rbconfig"
require "timeout"
require_relative "../fixtures/guests/build"

# The typed parser path (a WIT component, not a WASI command) under a guest that misbehaves
# on request: spec/fixtures/guests/hostile_component implements world ghcr-parser and loops,
# grows memory, traps or panics depending on the page bytes; other bytes get a normal answer
# whose total_downloads is the input length.
RSpec.describe "A hostile parser component" do
  let(:path) { GuestBuild.component("hostile_component") }

  def monotonic
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  def parser(**limits)
    StatsTracker::Parser.new(component: path, **limits)
  end

  def expect_usable(parser)
    expect(parser.package("usable").total_downloads).to eq(6)
  end

  it "is loaded through Parser's component: option, with its digest checked" do
    digest = Digest::SHA256.file(path).hexdigest
    expect(StatsTracker::Parser.new(component: path, sha256: digest).package("four").total_downloads).to eq(4)
    expect { StatsTracker::Parser.new(component: path, sha256: "0" * 64) }
      .to raise_error(StatsTracker::CompileError, /SHA-256/)
  end

  it "raises TimeoutError promptly when the guest loops past timeout:" do
    looping = parser(timeout: 0.25)
    started = monotonic
    expect { looping.package("spin") }.to raise_error(StatsTracker::TimeoutError, /timeout of 0.25s/)
    elapsed = monotonic - started
    expect(elapsed).to be >= 0.25
    expect(elapsed).to be < 2.0
    expect_usable(looping)
  end

  it "raises ResourceLimitError when the guest grows memory past memory_limit:" do
    greedy = parser(memory_limit: 16 * 1024 * 1024)
    expect { greedy.versions("grow") }
      .to raise_error(StatsTracker::ResourceLimitError, /memory_limit of 16777216 bytes/)
    expect_usable(greedy)
  end

  it "raises TrapError with a wasm backtrace naming the guest's frames on a trap" do
    trapping = parser
    expect { trapping.package("trap") }.to raise_error(StatsTracker::TrapError) { |error|
      expect(error.message).to include("wasm `unreachable` instruction executed")
      expect(error.message).to match(/wasm backtrace:.*hostile_trap_inner.*hostile_trap_outer/m)
    }
    expect_usable(trapping)
  end

  it "raises TrapError carrying the guest's panic message" do
    panicking = parser
    expect { panicking.listing("panic") }
      .to raise_error(StatsTracker::TrapError, /guest stderr:.*hostile component panicked on purpose/m)
    expect_usable(panicking)
  end

  it "is stopped by Timeout.timeout while looping, well before its own timeout" do
    looping = parser(timeout: 30.0)
    started = monotonic
    expect { Timeout.timeout(0.2) { looping.package("spin") } }.to raise_error(Timeout::Error)
    expect(monotonic - started).to be < 2.0
    expect_usable(looping)
  end

  it "is stopped by Thread#kill while looping" do
    looping = parser(timeout: 30.0)
    guest = Thread.new { looping.package("spin") }
    sleep 0.01 until guest.status == "sleep" # in the blocking region, GVL released
    started = monotonic
    guest.kill
    expect(guest.join(5)).to eq(guest)
    expect(monotonic - started).to be < 2.0
    expect(guest.status).to be(false)
    expect_usable(looping)
  end

  # A kill that lands after the guest returned, while the thread waits to get the GVL back,
  # is delivered while the extension creates its exception. That used to happen inside
  # magnus, which treated it as unreachable and aborted the whole process (3 of 3 runs).
  it "survives Thread#kill racing with calls that fail (child process: the failure mode is an abort)" do
    script = <<~RUBY
      require "stats_tracker"
      parser = StatsTracker::Parser.new(component: #{path.dump})
      500.times do
        worker = Thread.new { loop { parser.package("trap") rescue StatsTracker::TrapError } }
        sleep(rand * 0.002)
        worker.kill
        worker.join
      end
      puts parser.package("alive").total_downloads
    RUBY
    lib = File.expand_path("../../lib", __dir__)
    out, err, status = Open3.capture3("timeout", "--signal=KILL", "120", RbConfig.ruby, "-I", lib, "-e", script)
    expect(err).not_to include("panicked")
    expect(status).to be_success
    expect(out).to eq("5\n")
  end
end
