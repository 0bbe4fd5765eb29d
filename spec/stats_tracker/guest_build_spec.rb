# frozen_string_literal: true

require_relative "../fixtures/guests/build"

# The specs run the guests they build: a guest cached where another user can write could be
# swapped for one that makes every sandbox spec pass (or fail) for the wrong reason.
RSpec.describe GuestBuild do
  it "builds guests into a directory that only this user can write" do
    dir = File.dirname(described_class.rust("hostile"))
    stat = File.lstat(dir)
    expect(stat).to be_directory
    expect(stat.uid).to eq(Process.euid)
    expect(stat.mode & 0o022).to eq(0)
    expect(File.realpath(dir)).not_to eq(File.realpath(Dir.tmpdir))
  end
end
