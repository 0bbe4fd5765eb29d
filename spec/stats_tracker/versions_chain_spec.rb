# frozen_string_literal: true

require "stats_tracker/versions_chain"

# Where a versions chain ends, for the CLI and the operator alike.
RSpec.describe StatsTracker::VersionsChain do
  def tags(*pairs)
    pairs.each_slice(2).map { |tag, downloads| StatsTracker::VersionDownloads.new(tag: tag, downloads: downloads) }
  end

  def chain(pages, **options)
    described_class.new(read_page: lambda { |number|
      answer = pages.fetch(number - 1) { raise StatsTracker::ParseError.new(reason: :not_found) }
      answer.is_a?(Exception) ? raise(answer) : answer
    }, **options)
  end

  it "reads until a page past the last one answers not found, empty or the same rows again" do
    first = tags("a", 1, "b", 2)
    expect(chain([first, tags("c", 3)]).read.to_h.slice(:pages, :stopped)).to eq(pages: 2, stopped: nil)
    expect(chain([first, []]).read.versions).to eq(first)
    expect(chain([first, first]).read.pages).to eq(1)
    expect(chain([first, StatsTracker::ParseError.new(reason: :no_statistics)]).read).to be_complete
  end

  it "raises what the first page raises, and what a later page raises unless it means no such page" do
    expect { chain([StatsTracker::ParseError.new(reason: :not_found)]).read }.to raise_error(StatsTracker::ParseError)
    expect { chain([tags("a", 1), StatsTracker::ParseError.new(reason: :rate_limited)]).read }
      .to raise_error(StatsTracker::ParseError) { |e| expect(e.reason).to eq(:rate_limited) }
  end

  it "says why it stopped early: the page limit, or the caller declining the next page" do
    pages = [tags("a", 1), tags("b", 2), tags("c", 3)]
    expect(chain(pages, max_pages: 2).read.to_h.slice(:pages, :stopped)).to eq(pages: 2, stopped: :page_limit)
    stopped = chain(pages, proceed: -> { false }).read
    expect([stopped.pages, stopped.stopped, stopped.versions.map(&:tag)]).to eq([1, :interrupted, ["a"]])
  end

  it "ranks the most downloaded tags first, equal counts in page order" do
    result = chain([tags("old", 5, "rc", 9), tags("v1", 9, "latest", 7)]).read
    expect(result.top(3).map(&:tag)).to eq(%w[rc v1 latest])
    expect(result.top(10).size).to eq(4)
  end
end
