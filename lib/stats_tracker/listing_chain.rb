# frozen_string_literal: true

require_relative "error"
require_relative "page_walk"

module StatsTracker
  # A package listing whose pages could not be followed to the last one. Whoever reads a listing
  # must not treat the packages read so far as the whole listing: a package missing from them
  # may simply be on a page that was never read.
  class IncompleteListingError < Error
    # :backward_link (a page's "next page" points at or before itself), :page_limit (more pages
    # than the reader may follow), :interrupted (the caller asked to stop between two pages).
    REASONS = %i[backward_link page_limit interrupted].freeze

    # pages: how many pages were read.
    attr_reader :reason, :packages, :next_page, :pages

    def initialize(message = nil, reason:, packages: [], next_page: nil, pages: nil)
      raise ArgumentError, "unknown reason #{reason.inspect}" unless REASONS.include?(reason)

      @reason = reason
      @packages = packages.dup.freeze
      @next_page = next_page
      @pages = pages
      super(message || "listing incomplete: #{reason}")
    end
  end

  # Follows an owner's package listing from page 1 to the page that has no "next page" link:
  # the one place that decides when a listing is complete, shared by the CLI and the operator.
  # It knows nothing of HTTP: `read_page` turns a page number into a parsed Listing (raising
  # whatever the fetch or the parser raises).
  class ListingChain
    def initialize(read_page:, max_pages: 100, proceed: -> { true })
      @read_page = read_page
      @walk = PageWalk.new(max_pages: max_pages, proceed: proceed)
    end

    # Every package of the listing in listing order, as the pages list them. Raises
    # IncompleteListingError unless the last page was reached. `resume`: the :interrupted error
    # of an earlier read of the same pass, which goes on from the page it stopped before.
    def read(resume: nil)
      packages = resume ? resume.packages.dup : []
      stop = @walk.walk(first: resume&.next_page || 1, read: resume&.pages || 0) do |number|
        listing = @read_page.call(number)
        packages.concat(listing.packages)
        following = listing.next_page
        backward(packages, number, following) if following && following <= number
        following
      end
      return packages if stop.reason == :end

      incomplete(stop, packages)
    end

    private

    def incomplete(stop, packages)
      message = if stop.reason == :page_limit
                  "more than #{stop.pages} listing pages; page #{stop.next_page} not read"
                else
                  "stopped before listing page #{stop.next_page}"
                end
      raise IncompleteListingError.new(message, reason: stop.reason, packages: packages, next_page: stop.next_page,
                                                pages: stop.pages)
    end

    def backward(packages, number, following)
      raise IncompleteListingError.new("listing page #{number} links back to page #{following}",
                                       reason: :backward_link, packages: packages)
    end
  end
end
