# frozen_string_literal: true

# Compiling cannot be interrupted, so what may be compiled is bounded up front, and what
# was compiled is not kept forever.
RSpec.describe "compile limits" do
  # A valid module: the header plus one custom section holding `bytes` zero bytes.
  def module_with_custom_section(bytes)
    name = "pad".b
    body = [name.bytesize].pack("C") + name + ("\0" * bytes)
    leb = +"".b
    size = body.bytesize
    loop do
      byte = size & 0x7f
      size >>= 7
      leb << (size.zero? ? byte : byte | 0x80).chr
      break if size.zero?
    end
    "\0asm\x01\0\0\0".b + "\0".b + leb + body
  end

  it "compiles a module with a small custom section (the control: it has no _start, which is found only by compiling)" do
    expect { StatsTracker::Wasi::Command.new(module_with_custom_section(16)) }
      .to raise_error(StatsTracker::CompileError, /_start/)
  end

  it "refuses an artifact over 64 MiB with ResourceLimitError before compiling it" do
    huge = module_with_custom_section(64 * 1024 * 1024)
    expect { StatsTracker::Wasi::Command.new(huge) }
      .to raise_error(StatsTracker::ResourceLimitError, /at most 67108864 bytes/)
  end

  it "keeps only the most recently used compiled modules in memory" do
    limit = StatsTracker::Compiled::MAX_ENTRIES
    (limit + 5).times do |i|
      StatsTracker::Wasi::Command.new(%[(module (func (export "_start")) (func (export "f#{i}")))])
    end
    modules = StatsTracker::Compiled.instance_variable_get(:@modules)
    expect(modules.size).to be <= limit
  end
end
