# frozen_string_literal: true

require_relative "../fixtures/guests/build"

# memory_limit bounds everything one call may allocate, across all of its memories. With
# the pool off (STATS_TRACKER_POOL_SLOTS=0, or when its address space cannot be reserved)
# nothing else bounds it, so these run in a child with the pool off.
RSpec.describe "memory_limit across a store" do
  it "counts every memory of the guest together" do
    result = ChildRuby.json(<<~RUBY, env: { "STATS_TRACKER_POOL_SLOTS" => "0" })
      two = StatsTracker::Wasi::Command.new(#{GuestBuild.wat('two_memories').dump})
      mib = 1024 * 1024
      over = begin
        two.run(memory_limit: 64 * mib).exit_code
      rescue StatsTracker::Error => e
        [e.class.name, e.message]
      end
      puts JSON.generate([StatsTracker::Native.pool_slots, over, two.run(memory_limit: 96 * mib).exit_code])
    RUBY
    expect(result).to eq([0, ["StatsTracker::ResourceLimitError", "guest exceeded memory_limit of 67108864 bytes"], 0])
  end
end
