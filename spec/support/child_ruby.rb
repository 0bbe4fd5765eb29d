# frozen_string_literal: true

require "json"
require "open3"
require "rbconfig"

# Runs Ruby code in a fresh process with stats_tracker loaded, for what must not happen in
# the RSpec process itself: a different pool size, a fork, a small native stack, signal traps.
module ChildRuby
  LIB = File.expand_path("../../lib", __dir__)
  PRELUDE = <<~RUBY
    require "json"
    require "stats_tracker"
    def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)
  RUBY

  module_function

  # -> [stdout, stderr, Process::Status]; a child still running after `deadline` seconds is killed.
  def capture(code, env: {}, deadline: 120)
    Open3.capture3(env, "timeout", "--signal=KILL", deadline.to_s, RbConfig.ruby, "-I", LIB, "-e", PRELUDE + code)
  end

  # The JSON the child printed last; raises unless it exited 0.
  def json(code, **options)
    out, err, status = capture(code, **options)
    raise "child failed (#{status}): #{err}" unless status.success?

    JSON.parse(out.lines.last)
  end
end
