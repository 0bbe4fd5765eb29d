# frozen_string_literal: true

require "stats_tracker/listing_chain"

# The chain logic alone, over parsed pages; the CLI and operator specs cover it over HTTP.
RSpec.describe StatsTracker::ListingChain do
  def page(names, next_page)
    StatsTracker::Listing.new(packages: names.map { |n| StatsTracker::ListedPackage.new(name: n) }, next_page: next_page)
  end

  def chain(pages, **options)
    asked = []
    reader = described_class.new(read_page: lambda { |n|
                                              asked << n
                                              pages.fetch(n)
                                            }, **options)
    [reader, asked]
  end

  it "follows next_page links to the page that has none" do
    reader, asked = chain({ 1 => page(%w[a b], 2), 2 => page(%w[c], 4), 4 => page(%w[d], nil) })
    expect(reader.read.map(&:name)).to eq(%w[a b c d])
    expect(asked).to eq([1, 2, 4])
  end

  it "raises backward_link, with what it read, when a page links to itself or an earlier page" do
    reader, = chain({ 1 => page(%w[a], 2), 2 => page(%w[b], 2) })
    expect { reader.read }.to raise_error(StatsTracker::IncompleteListingError) { |e|
      expect([e.reason, e.packages.map(&:name)]).to eq([:backward_link, %w[a b]])
    }
  end

  it "raises page_limit with the next page when there are more pages than it may follow" do
    reader, asked = chain({ 1 => page(%w[a], 2), 2 => page(%w[b], 3) }, max_pages: 2)
    expect { reader.read }.to raise_error(StatsTracker::IncompleteListingError) { |e|
      expect([e.reason, e.next_page, e.packages.map(&:name)]).to eq([:page_limit, 3, %w[a b]])
    }
    expect(asked).to eq([1, 2])
  end

  it "raises interrupted, without reading on, when told to stop between pages" do
    answers = [false]
    reader, asked = chain({ 1 => page(%w[a], 2), 2 => page(%w[b], nil) }, proceed: -> { answers.shift })
    expect { reader.read }.to raise_error(StatsTracker::IncompleteListingError) { |e|
      expect([e.reason, e.next_page]).to eq([:interrupted, 2])
    }
    expect(asked).to eq([1])
  end

  it "goes on from where an interrupted read stopped, counting its pages towards the limit" do
    answers = [false, true, true]
    pages = { 1 => page(%w[a], 2), 2 => page(%w[b], 3), 3 => page(%w[c], 4), 4 => page(%w[d], nil) }
    reader, asked = chain(pages, max_pages: 3, proceed: -> { answers.shift })
    stopped = begin
      reader.read
    rescue StatsTracker::IncompleteListingError => e
      e
    end
    expect([stopped.reason, stopped.next_page, stopped.pages]).to eq([:interrupted, 2, 1])
    expect { reader.read(resume: stopped) }.to raise_error(StatsTracker::IncompleteListingError) { |limit|
      expect([limit.reason, limit.next_page, limit.packages.map(&:name)]).to eq([:page_limit, 4, %w[a b c]])
    }
    expect(asked).to eq([1, 2, 3])
    expect(described_class.new(read_page: pages.method(:fetch)).read(resume: stopped).map(&:name)).to eq(%w[a b c d])
  end

  it "is an Error with a typed reason, so callers rescue it with the gem's other errors" do
    expect(StatsTracker::IncompleteListingError.ancestors).to include(StatsTracker::Error)
    expect { StatsTracker::IncompleteListingError.new(reason: :bogus) }.to raise_error(ArgumentError)
  end
end
