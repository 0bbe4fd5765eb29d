# frozen_string_literal: true

require "tmpdir"
require_relative "../fixtures/guests/build"

# fork(2) copies only the forking thread. Guest calls that the parent's other threads had
# running at that moment never end in the child, and locks they held are never released
# there. The child must start clean anyway: its own engine and instance pool, so the
# parent's slots do not count, and Parser objects made in the parent reloaded for it.
RSpec.describe "forking while guests run" do
  let(:component) { GuestBuild.component("hostile_component") }

  # The child's answer comes back through a pipe; a child still silent after `deadline`
  # seconds is killed and reported as hung, so a deadlock fails the example, not the suite.
  def child_report = <<~RUBY
    def in_child(deadline: 90)
      reader, writer = IO.pipe
      pid = fork do
        reader.close
        answer = begin
          yield
        rescue StatsTracker::Error => e
          "\#{e.class.name}: \#{e.message}"
        end
        writer.write(JSON.generate(answer))
        writer.close
        exit!(0)
      end
      writer.close
      ready = IO.select([reader], nil, nil, deadline)
      unless ready
        Process.kill(:KILL, pid)
        Process.wait(pid)
        return ["hung", false]
      end
      answer = JSON.parse(reader.read)
      Process.wait(pid)
      [answer, $?.success?]
    end
  RUBY

  def fork_while_spinning(slots:)
    ChildRuby.json(child_report + <<~RUBY, env: { "STATS_TRACKER_POOL_SLOTS" => slots.to_s })
      spinning = StatsTracker::Parser.new(component: #{component.dump}, timeout: 60.0)
      quick = StatsTracker::Parser.new(component: #{component.dump}, timeout: 2.0)
      hogs = Array.new(2) { Thread.new { spinning.package("spin") rescue $! } }
      sleep 0.05 until hogs.all? { |t| t.status == "sleep" }
      sleep 0.2 # both are inside the guest, each holding a slot
      from_child, status = in_child { Array.new(3) { quick.package("four").total_downloads } }
      hogs.each(&:kill).each(&:join)
      puts JSON.generate([from_child, status, quick.package("four").total_downloads])
    RUBY
  end

  it "leaves the child every slot when some were held at the fork" do
    skip "no fork here" unless Process.respond_to?(:fork)
    expect(fork_while_spinning(slots: 3)).to eq([[4, 4, 4], true, 4])
  end

  it "parses in the child when every slot was held at the fork" do
    skip "no fork here" unless Process.respond_to?(:fork)
    expect(fork_while_spinning(slots: 2)).to eq([[4, 4, 4], true, 4])
  end

  # A parser made in the parent is reloaded for the child's engine on first use: from the
  # module cache when it has the entry, else compiled from the bytes the parser kept.
  it "reloads a parent's parser in the child, from the cache or, without one, from its bytes" do
    skip "no fork here" unless Process.respond_to?(:fork)
    page = File.join(GHCR_FIXTURES, "package-small-42.html")
    Dir.mktmpdir do |dir|
      cached, uncached = [File.join(dir, "modules"), File.join(dir, "a-file", "modules")].map do |cache|
        File.write(File.join(dir, "a-file"), "") unless File.exist?(File.join(dir, "a-file"))
        ChildRuby.json(child_report + <<~RUBY, env: { "STATS_TRACKER_CACHE_DIR" => cache, "STATS_TRACKER_POOL_SLOTS" => "1" })
          parser = StatsTracker::Parser.new
          html = File.binread(#{page.dump})
          parser.package(html)
          before = StatsTracker::Native.cache_stats
          from_child, status = in_child do
            total = parser.package(html).total_downloads
            stats = StatsTracker::Native.cache_stats
            [total, stats[:hits] - before[:hits], stats[:misses] - before[:misses]]
          end
          puts JSON.generate([from_child, status, parser.package(html).total_downloads])
        RUBY
      end
      expect(cached).to eq([[42, 1, 0], true, 42])
      expect(uncached).to eq([[42, 0, 0], true, 42])
    end
  end

  # Another thread of the parent is compiling at the fork: it holds StatsTracker::Compiled's
  # lock and is inside Cranelift, whose worker threads do not exist in the child.
  it "compiles and parses in the child while another parent thread was compiling at the fork" do
    skip "no fork here" unless Process.respond_to?(:fork)
    page = File.join(GHCR_FIXTURES, "package-small-42.html")
    Dir.mktmpdir do |dir|
      result = ChildRuby.json(child_report + <<~RUBY, env: { "STATS_TRACKER_CACHE_DIR" => File.join(dir, "modules") })
        html = File.binread(#{page.dump})
        StatsTracker::Parser.new(component: #{component.dump}) # warms up the engine and the compiler
        lock = StatsTracker::Compiled.instance_variable_get(:@mutex)
        compiling = Thread.new { StatsTracker::Parser.new }
        sleep 0.001 until lock.locked?
        sleep 0.1
        held_at_fork = lock.locked? && compiling.alive?
        from_child, status = in_child { StatsTracker::Parser.new.package(html).total_downloads }
        compiling.join
        puts JSON.generate([held_at_fork, from_child, status])
      RUBY
      expect(result).to eq([true, 42, true])
    end
  end
end
