# frozen_string_literal: true

require_relative "../support/child_ruby"
require_relative "support/operator_harness"

RSpec.describe StatsTracker::Operator::MallocTrim do
  operator_lib = File.expand_path("../../operator/lib", __dir__)

  # A burst freed in another thread's arena (what a relist does) stays in RSS through GC; the
  # trim gives it back. Run in a fresh process so nothing else moves its RSS.
  it "gives back memory that glibc kept after a burst of allocations was freed" do
    result = ChildRuby.json(<<~RUBY, env: { "MALLOC_ARENA_MAX" => "2" })
      $LOAD_PATH.unshift(#{operator_lib.inspect})
      require "stats_tracker/operator/malloc_trim"
      rss = -> { StatsTracker::Operator::ProcessMemory.rss_bytes }
      kept = []
      start = rss.call
      Thread.new { 200_000.times.map { |i| s = "x" * 500; kept << s if (i % 50).zero?; s }.size }.join
      3.times { GC.start }
      freed = rss.call
      released = StatsTracker::Operator::MallocTrim.call
      puts JSON.generate(start: start, freed: freed, released: released, trimmed: rss.call, kept: kept.size)
    RUBY
    mib = 1024 * 1024
    expect(result["freed"] - result["start"]).to be > 60 * mib # ~95 MiB allocated, 2 % of it kept
    expect(result["released"]).to be > 40 * mib
    expect(result["trimmed"]).to be < result["freed"] - (40 * mib)
  end

  context "in the operator", kube: true do
    include_context "an operator against the API server"

    it "trims every MALLOC_TRIM_INTERVAL and counts it on /metrics; 0 turns it off" do
      trimming = start_operator(pages, malloc_trim_interval: 0.2)
      off = start_operator(pages, malloc_trim_interval: 0.0)
      wait_for("two trims") { metric_value(trimming.metrics.render, "stats_tracker_malloc_trims_total").to_i >= 2 }
      expect(metric_value(trimming.metrics.render, "stats_tracker_malloc_trim_released_bytes_total")).to be >= 0
      expect(metric_value(off.metrics.render, "stats_tracker_malloc_trims_total").to_i).to eq(0)
    end
  end
end
