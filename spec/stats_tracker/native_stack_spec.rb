# frozen_string_literal: true

require_relative "../fixtures/guests/build"

# Guest recursion must end in wasmtime's own stack check ("call stack exhausted"), never in
# the caller's guard page: that would be Ruby's SystemStackError (or a crash) unwinding
# through Rust frames that hold a pool slot. Ruby Fibers and small-stack threads leave far
# less native stack than a guest may use, so each case runs in a child with one pool slot.
RSpec.describe "guest recursion on a small native stack" do
  def outcome(wrap, env: {})
    code = <<~RUBY
      recurse = StatsTracker::Wasi::Command.new(#{GuestBuild.wat('recurse').dump})
      attempt = lambda do
        recurse.run(timeout: 30.0)
        "no error"
      rescue StatsTracker::TrapError => e
        e.message[/call stack exhausted/] || e.message
      rescue SystemStackError => e
        "SystemStackError: \#{e.message}"
      end
      first = #{wrap}
      second = #{wrap}
      after = StatsTracker::Wasi::Command.new('(module (func (export "_start")))').run(timeout: 5.0).exit_code
      puts JSON.generate([first, second, after])
    RUBY
    out, err, status = ChildRuby.capture(code, env: { "STATS_TRACKER_POOL_SLOTS" => "1" }.merge(env))
    [status.exitstatus, out.lines.last && JSON.parse(out.lines.last), err]
  end

  it "is a TrapError on the main thread (the control)" do
    expect(outcome("attempt.call")).to match([0, ["call stack exhausted", "call stack exhausted", 0], anything])
  end

  it "is a TrapError inside a Fiber, and the slot comes back" do
    expect(outcome("Fiber.new { attempt.call }.resume"))
      .to match([0, ["call stack exhausted", "call stack exhausted", 0], anything])
  end

  it "is a TrapError in a thread with a 256 KiB machine stack, and the slot comes back" do
    result = outcome("Thread.new { attempt.call }.value", env: { "RUBY_THREAD_MACHINE_STACK_SIZE" => "262144" })
    expect(result).to match([0, ["call stack exhausted", "call stack exhausted", 0], anything])
  end
end
