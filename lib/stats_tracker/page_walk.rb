# frozen_string_literal: true

module StatsTracker
  # The pagination loop every chain of GitHub pages shares (listings, versions): read pages one
  # after another, ask `proceed` before each page after the first of a walk, and stop at a page
  # limit. The chain itself says, from each page it reads, which page comes next; the walk knows
  # nothing of what a page holds.
  class PageWalk
    # How a walk ended: :end (the chain named no next page), :interrupted (`proceed` said no) or
    # :page_limit; next_page is the page that would have come next (nil at :end); pages counts
    # the pages read, those of earlier walks of the same pass included.
    Stop = Struct.new(:reason, :next_page, :pages, keyword_init: true)

    def initialize(max_pages:, proceed: -> { true })
      raise ArgumentError, "max_pages must be >= 1" unless max_pages.is_a?(Integer) && max_pages.positive?

      @max_pages = max_pages
      @proceed = proceed
    end

    # Yields page numbers from `first`; the block reads the page and returns the number of the
    # next one, or nil when the chain ends there. `read`: pages an earlier walk of the same pass
    # already read (they count towards the limit).
    def walk(first: 1, read: 0)
      number = first
      pages = read
      walked = 0
      loop do
        return Stop.new(reason: :page_limit, next_page: number, pages: pages) if pages >= @max_pages
        return Stop.new(reason: :interrupted, next_page: number, pages: pages) if walked.positive? && !@proceed.call

        following = yield(number)
        pages += 1
        walked += 1
        return Stop.new(reason: :end, next_page: nil, pages: pages) if following.nil?

        number = following
      end
    end
  end
end
