# frozen_string_literal: true

require_relative "error"

module StatsTracker
  # A package listing whose pages could not be followed to the last one. Whoever reads a listing
  # must not treat the packages read so far as the whole listing: a package missing from them
  # may simply be on a page that was never read.
  class IncompleteListingError < Error
    # :backward_link (a page's "next page" points at or before itself), :page_limit (more pages
    # than the reader may follow), :interrupted (the caller asked to stop between two pages).
    REASONS = %i[backward_link page_limit interrupted].freeze

    attr_reader :reason, :packages, :next_page

    def initialize(message = nil, reason:, packages: [], next_page: nil)
      raise ArgumentError, "unknown reason #{reason.inspect}" unless REASONS.include?(reason)

      @reason = reason
      @packages = packages.dup.freeze
      @next_page = next_page
      super(message || "listing incomplete: #{reason}")
    end
  end

  # Follows an owner's package listing from page 1 to the page that has no "next page" link:
  # the one place that decides when a listing is complete, shared by the CLI and the operator.
  # It knows nothing of HTTP: `read_page` turns a page number into a parsed Listing (raising
  # whatever the fetch or the parser raises).
  class ListingChain
    def initialize(read_page:, max_pages: 100, proceed: -> { true })
      raise ArgumentError, "max_pages must be >= 1" unless max_pages.is_a?(Integer) && max_pages.positive?

      @read_page = read_page
      @max_pages = max_pages
      @proceed = proceed
    end

    # Every package of the listing in listing order, as the pages list them. Raises
    # IncompleteListingError unless the last page was reached.
    def read
      packages = []
      number = 1
      @max_pages.times do |index|
        interrupted(packages, number) if index.positive? && !@proceed.call
        listing = @read_page.call(number)
        packages.concat(listing.packages)
        following = listing.next_page
        return packages if following.nil?

        backward(packages, number, following) unless following > number

        number = following
      end
      raise IncompleteListingError.new("more than #{@max_pages} listing pages; page #{number} not read",
                                       reason: :page_limit, packages: packages, next_page: number)
    end

    private

    def interrupted(packages, number)
      raise IncompleteListingError.new("stopped before listing page #{number}",
                                       reason: :interrupted, packages: packages, next_page: number)
    end

    def backward(packages, number, following)
      raise IncompleteListingError.new("listing page #{number} links back to page #{following}",
                                       reason: :backward_link, packages: packages)
    end
  end
end
