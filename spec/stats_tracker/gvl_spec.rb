# frozen_string_literal: true

require "rbconfig"
require "timeout"
require_relative "../fixtures/guests/build"

# Guests run without the GVL and can be stopped from Ruby like any blocking call.
RSpec.describe "GVL release and interruption" do
  let(:spin) { StatsTracker::Wasi::Command.new(GuestBuild.wat("spin")) }

  def quietly
    Thread.current.report_on_exception = false
    yield
  end

  def monotonic
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  it "lets other Ruby threads run while a guest loops for 5 s" do
    guest = Thread.new do
      spin.run(timeout: 5.0)
    rescue StatsTracker::TimeoutError => e
      e
    end
    sleep 0.05 until guest.status == "sleep" || !guest.alive? # inside the blocking region
    counted = 0
    counted += 1 while guest.alive?
    expect(guest.value).to be_a(StatsTracker::TimeoutError)
    # Holding the GVL would leave this thread no chance to run until the guest returned.
    expect(counted).to be > 100_000
  end

  it "is stopped by Timeout.timeout(0.2) well under a second" do
    started = monotonic
    expect { Timeout.timeout(0.2) { spin.run(timeout: 5.0) } }.to raise_error(Timeout::Error)
    expect(monotonic - started).to be < 1.0
  end

  it "is stopped by Thread#raise with the raised exception" do
    marker = Class.new(StandardError)
    guest = Thread.new { quietly { spin.run(timeout: 30.0) } }
    sleep 0.01 until guest.status == "sleep"
    guest.raise(marker, "stop")
    expect { guest.join }.to raise_error(marker, "stop")
  end

  it "is stopped by Thread#kill" do
    guest = Thread.new { quietly { spin.run(timeout: 30.0) } }
    sleep 0.01 until guest.status == "sleep"
    guest.kill
    expect(guest.join(5)).to eq(guest)
    expect(guest.status).to be(false)
  end

  it "stops only the interrupted call: a concurrent guest in another thread completes" do
    hostile = StatsTracker::Wasi::Command.new(GuestBuild.rust("hostile"))
    victim = Thread.new { quietly { spin.run(timeout: 30.0) } }
    bystander = Thread.new { hostile.run(args: %w[spin 200000000], timeout: 30.0) }
    sleep 0.01 until victim.status == "sleep"
    victim.kill
    victim.join
    expect(bystander.value.stdout).to eq("200000000\n")
  end

  # The one place nothing but a signal can reach the unblocking function: the main thread
  # of a process with no other Ruby thread. Ruby calls it from its signal handler (we pass
  # RB_NOGVL_UBF_ASYNC_SAFE instead of letting Ruby spawn a helper Thread per call).
  it "is stopped by Ctrl-C (SIGINT) in a single-threaded process, promptly" do
    lib = File.expand_path("../../lib", __dir__)
    script = <<~RUBY
      require "stats_tracker"
      spin = StatsTracker::Wasi::Command.new(#{GuestBuild.wat("spin").dump})
      $stdout.sync = true
      puts "threads=\#{Thread.list.size}"
      started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      begin
        spin.run(timeout: 60.0)
        puts "finished"
      rescue ::Interrupt
        puts "interrupted after \#{Process.clock_gettime(Process::CLOCK_MONOTONIC) - started}"
      end
    RUBY
    IO.popen([RbConfig.ruby, "-I", lib, "-e", script], err: File::NULL) do |child|
      expect(child.gets).to eq("threads=1\n")
      sleep 0.5 # inside the guest by now (compiling a WAT this small takes milliseconds)
      sent = monotonic
      Process.kill(:INT, child.pid)
      line = child.gets
      expect(line).to start_with("interrupted after")
      expect(monotonic - sent).to be < 5.0
    end
  end
end
