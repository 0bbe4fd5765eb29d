# frozen_string_literal: true

require_relative "../fixtures/guests/build"

# fork(2) copies only the forking thread. Guest calls that the parent's other threads had
# running at that moment never end in the child, and wasmtime's instance pool was copied
# with their slots in use: the child can use the remaining slots, and a call that finds
# none left waits and then times out (a typed error naming the setting), never hangs.
RSpec.describe "forking while guests run" do
  let(:component) { GuestBuild.component("hostile_component") }

  def fork_while_spinning(slots:)
    ChildRuby.json(<<~RUBY, env: { "STATS_TRACKER_POOL_SLOTS" => slots.to_s })
      spinning = StatsTracker::Parser.new(component: #{component.dump}, timeout: 60.0)
      quick = StatsTracker::Parser.new(component: #{component.dump}, timeout: 2.0)
      hogs = Array.new(2) { Thread.new { spinning.package("spin") rescue $! } }
      sleep 0.05 until hogs.all? { |t| t.status == "sleep" }
      sleep 0.2 # both are inside the guest, each holding a slot
      reader, writer = IO.pipe
      pid = fork do
        reader.close
        answer = begin
          Array.new(3) { quick.package("four").total_downloads }
        rescue StatsTracker::Error => e
          "\#{e.class.name}: \#{e.message}"
        end
        writer.write(JSON.generate(answer))
        writer.close
        exit!(0)
      end
      writer.close
      from_child = JSON.parse(reader.read)
      Process.wait(pid)
      status = $?.success?
      hogs.each(&:kill).each(&:join)
      puts JSON.generate([from_child, status, quick.package("four").total_downloads])
    RUBY
  end

  it "leaves the child the slots nobody held, and they work" do
    skip "no fork here" unless Process.respond_to?(:fork)
    expect(fork_while_spinning(slots: 3)).to eq([[4, 4, 4], true, 4])
  end

  it "times a call out in the child when every slot was held at the fork" do
    skip "no fork here" unless Process.respond_to?(:fork)
    from_child, status, parent = fork_while_spinning(slots: 2)
    expect(from_child).to match(/\AStatsTracker::TimeoutError: .*waiting for one of 2 instance slots/)
    expect([status, parent]).to eq([true, 4])
  end
end
