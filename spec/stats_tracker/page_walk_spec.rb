# frozen_string_literal: true

require "stats_tracker/page_walk"

# The loop alone; ListingChain and VersionsChain specs cover what each chain makes of a page.
RSpec.describe StatsTracker::PageWalk do
  it "walks the pages the block names until it names none" do
    walked = []
    stop = described_class.new(max_pages: 10).walk do |n|
      walked << n
      n < 5 ? n + 2 : nil
    end
    expect(walked).to eq([1, 3, 5])
    expect(stop.to_h).to eq(reason: :end, next_page: nil, pages: 3)
  end

  it "asks before every page after the first of a walk, and stops where it is told to" do
    asked = 0
    walk = described_class.new(max_pages: 10, proceed: -> { (asked += 1) < 2 })
    expect(walk.walk(first: 4, read: 3) { |n| n + 1 }.to_h).to eq(reason: :interrupted, next_page: 6, pages: 5)
    expect(asked).to eq(2)
  end

  it "stops at the page limit, pages of earlier walks included" do
    stop = described_class.new(max_pages: 3).walk(first: 3, read: 2) { |n| n + 1 }
    expect(stop.to_h).to eq(reason: :page_limit, next_page: 4, pages: 3)
    expect { described_class.new(max_pages: 0) }.to raise_error(ArgumentError)
  end
end
