# frozen_string_literal: true

RSpec.describe "StatsTracker::Native.sha256_hex" do
  it "agrees with Digest::SHA256 on empty, binary, multi-block and non-ASCII input" do
    inputs = ["", "abc", Random.new(7).bytes(1_000_003), "é€😀".encode("UTF-8"), "\x00\xFF".b * 4096]
    inputs.each do |bytes|
      expect(StatsTracker::Native.sha256_hex(bytes)).to eq(Digest::SHA256.hexdigest(bytes))
    end
  end

  it "hashes the bundled component as Parser.new's digest check sees it" do
    bytes = File.binread(StatsTracker::Parser::BUNDLED_COMPONENT)
    expect { StatsTracker::Parser.new(sha256: Digest::SHA256.hexdigest(bytes).upcase) }.not_to raise_error
    expect { StatsTracker::Parser.new(sha256: "0" * 64) }.to raise_error(StatsTracker::CompileError, /SHA-256/)
  end
end
