# frozen_string_literal: true

require_relative "../fixtures/guests/build"

# Ruby calls the unblocking function for interrupts that end in nothing: a signal whose
# trap handler returns, Thread#wakeup, a Thread#raise deferred by handle_interrupt. Like
# Ruby's own blocking I/O, a guest call carries on through them. Signal traps are
# process-wide, so each case runs in a child.
RSpec.describe "harmless interrupts during a guest call" do
  let(:hostile) { GuestBuild.rust("hostile") }
  let(:component) { GuestBuild.component("hostile_component") }

  it "survive a trap('USR1') handler called every millisecond" do
    result = ChildRuby.json(<<~RUBY)
      signals = 0
      trap("USR1") { signals += 1 }
      spinner = StatsTracker::Wasi::Command.new(#{hostile.dump})
      parser = StatsTracker::Parser.new(component: #{component.dump}, timeout: 30.0)
      me = Process.pid
      pinger = Thread.new { loop { Process.kill(:USR1, me); sleep 0.001 } }
      answers = Array.new(3) { spinner.run(args: %w[spin 200000000], timeout: 60.0).stdout }
      parses = Array.new(200) { parser.package("four").total_downloads }.uniq
      pinger.kill
      puts JSON.generate([answers.uniq, parses, signals > 10])
    RUBY
    expect(result).to eq([["200000000\n"], [4], true])
  end

  it "survive Thread#wakeup" do
    result = ChildRuby.json(<<~RUBY)
      spinner = StatsTracker::Wasi::Command.new(#{hostile.dump})
      guest = Thread.new { spinner.run(args: %w[spin 300000000], timeout: 60.0).stdout }
      wakeups = 0
      while guest.alive?
        guest.wakeup rescue nil
        wakeups += 1
        sleep 0.001
      end
      puts JSON.generate([guest.value, wakeups > 10])
    RUBY
    expect(result).to eq(["300000000\n", true])
  end

  it "let a Thread#raise deferred by handle_interrupt arrive after the call completes" do
    result = ChildRuby.json(<<~RUBY)
      spinner = StatsTracker::Wasi::Command.new(#{hostile.dump})
      marker = Class.new(StandardError)
      inside = Queue.new
      guest = Thread.new do
        Thread.current.report_on_exception = false
        output = nil
        Thread.handle_interrupt(marker => :never) do
          inside << true
          output = spinner.run(args: %w[spin 300000000], timeout: 60.0).stdout
        end
        [output, :not_raised]
      rescue marker => e
        [output, e.message]
      end
      inside.pop
      sleep 0.1
      guest.raise(marker, "later")
      puts JSON.generate(guest.value)
    RUBY
    expect(result).to eq(%W[300000000\n later])
  end
end
