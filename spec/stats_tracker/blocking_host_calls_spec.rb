# frozen_string_literal: true

require "tmpdir"
require "timeout"
require_relative "../fixtures/guests/build"

# A guest that blocks inside a WASI host call runs no wasm code, so nothing but the host
# can notice its deadline or an interrupt. Each guest here would block for a minute or
# forever; every bound below is far under that and far above the 0.5 s asked for.
RSpec.describe "guests blocked inside a host call" do
  let(:sleeper) { StatsTracker::Wasi::Command.new(GuestBuild.wat("sleep")) }

  def monotonic
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  it "raise TimeoutError when sleeping 60 s in poll_oneoff under timeout: 0.5" do
    started = monotonic
    expect { sleeper.run(timeout: 0.5) }.to raise_error(StatsTracker::TimeoutError, /timeout of 0.5s/)
    expect(monotonic - started).to be < 20
  end

  it "are stopped by Timeout.timeout" do
    started = monotonic
    expect { Timeout.timeout(0.5) { sleeper.run(timeout: 60.0) } }.to raise_error(Timeout::Error)
    expect(monotonic - started).to be < 20
  end

  it "are stopped by Thread#kill" do
    guest = Thread.new do
      Thread.current.report_on_exception = false
      sleeper.run(timeout: 60.0)
    end
    sleep 0.01 until guest.status == "sleep"
    sleep 0.2 # inside poll_oneoff by now
    guest.kill
    expect(guest.join(20)).to eq(guest)
    expect(guest.status).to be(false)
  end

  # open(2) on a FIFO blocks until a writer comes, in a host thread no deadline can take
  # back; so the guest is refused before that open, and no thread is left holding it.
  it "are refused a FIFO in a preopen at once, leaving no host thread blocked opening it" do
    hostile = StatsTracker::Wasi::Command.new(GuestBuild.rust("hostile"))
    Dir.mktmpdir do |dir|
      fifo = File.join(dir, "fifo")
      File.mkfifo(fifo)
      started = monotonic
      result = hostile.run(args: %w[read /data/fifo], dirs: { "/data" => dir }, timeout: 5.0)
      expect(result.exit_code).to eq(1)
      expect(result.stderr).to start_with("denied:")
      expect(monotonic - started).to be < 20
      # A non-blocking open for writing fails with ENXIO exactly when no reader has the FIFO open.
      expect { File.open(fifo, File::WRONLY | File::NONBLOCK) }.to raise_error(Errno::ENXIO)
    ensure
      begin
        File.open(fifo, File::WRONLY | File::NONBLOCK).close
      rescue Errno::ENXIO, Errno::ENOENT
        nil
      end
    end
  end

  it "give their pool slot back: with one slot, the next call runs" do
    result = ChildRuby.json(<<~RUBY, env: { "STATS_TRACKER_POOL_SLOTS" => "1" })
      sleeper = StatsTracker::Wasi::Command.new(#{GuestBuild.wat('sleep').dump})
      error = (sleeper.run(timeout: 0.5) rescue $!).class.name
      done = StatsTracker::Wasi::Command.new('(module (func (export "_start")))').run(timeout: 5.0).exit_code
      puts JSON.generate([StatsTracker::Native.pool_slots, error, done])
    RUBY
    expect(result).to eq([1, "StatsTracker::TimeoutError", 0])
  end
end
