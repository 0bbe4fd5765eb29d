# frozen_string_literal: true

require_relative "error"
require_relative "page_walk"

module StatsTracker
  # Follows a package's versions pages from page 1: the one place that decides where the chain
  # ends, shared by the CLI and the operator. GitHub's versions pages carry no "next page" link,
  # so a page past the last one ends the chain: an empty page, a "not found" or "no statistics"
  # answer, or the same rows again (a server that ignores ?page=). It knows nothing of HTTP:
  # `read_page` turns a page number into the page's VersionDownloads (raising whatever the
  # fetch or the parser raises).
  class VersionsChain
    # Parser reasons that mean "no such page" when they answer a page after the first.
    END_OF_CHAIN = %i[not_found no_statistics empty].freeze

    # What a read found: every tag in page order, how many pages held them, and whether the
    # read stopped before the chain ended (`:page_limit` or `:interrupted`), or nil when it ended.
    Result = Struct.new(:versions, :pages, :stopped, keyword_init: true) do
      def complete?
        stopped.nil?
      end

      # The `limit` most downloaded tags, most first; equal counts keep page order.
      def top(limit)
        versions.each_with_index.sort_by { |v, index| [-v.downloads, index] }.first(limit).map(&:first)
      end
    end

    # proceed: asked before every page after the first; false stops the read (`:interrupted`).
    def initialize(read_page:, max_pages: 100, proceed: -> { true })
      @read_page = read_page
      @walk = PageWalk.new(max_pages: max_pages, proceed: proceed)
    end

    def read
      versions = []
      previous = nil
      filled = 0
      stop = @walk.walk do |number|
        batch = page(number)
        next nil if batch.nil? || batch.empty? || batch == previous

        versions.concat(batch)
        previous = batch
        filled += 1
        number + 1
      end
      Result.new(versions: versions.freeze, pages: filled, stopped: stop.reason == :end ? nil : stop.reason)
    end

    private

    def page(number)
      @read_page.call(number)
    rescue ParseError => e
      raise unless number > 1 && END_OF_CHAIN.include?(e.reason)

      nil
    end
  end
end
