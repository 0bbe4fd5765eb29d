# frozen_string_literal: true

require "stats_tracker/error"
require "stats_tracker/values"
require "stats_tracker/fetcher/page"

module StatsTracker
  module Simulation
    # A simulated GitHub: owners with paginated package listings and download counts, answering
    # the two calls the reconcilers make (`listing_page`, `package_page`) the way the real Fetcher
    # does with max_retries 0 (a Page, or a raised FetchError). Faults are armed per target and
    # consumed one request at a time. Bodies are short strings that `Parser` below reads, so no
    # wasm runs in the simulation.
    class Github
      PAGE_SIZE = 3
      FAULTS = %i[server_error rate_limited_retry_after rate_limited timeout login_page rate_limit_page
                  truncated_listing].freeze
      # Faults of the transfer itself: the connection closes mid-body (the Fetcher's EOFError), or
      # the body arrives cut mid-token (the parser rejects it as truncated).
      TRANSFER_FAULTS = %i[connection_reset cut_body].freeze
      # The Fetcher gives up on an answer that takes longer (its total_timeout).
      TIMEOUT = 60.0

      attr_reader :requests

      def initialize(clock:, random:, trace:)
        @clock = clock
        @random = random
        @trace = trace
        @listings = {}
        @counts = {}
        @faults = Hash.new { |h, k| h[k] = [] }
        @requests = []
        @slow = [0.0, -1.0]
      end

      def add_owner(owner, packages)
        @listings[owner] = packages.dup
        packages.each { |pkg| @counts[[owner, pkg]] = 100 + @random.rand(1000) }
      end

      def owners
        @listings.keys
      end

      def listed?(owner, package)
        Array(@listings[owner]).include?(package)
      end

      def packages(owner)
        @listings.fetch(owner)
      end

      def list_package(owner, package)
        @listings[owner] |= [package]
        @counts[[owner, package]] ||= 100 + @random.rand(1000)
      end

      def unlist_package(owner, package)
        @listings[owner].delete(package)
      end

      def bump(owner, package)
        @counts[[owner, package]] += 1 + @random.rand(50)
      end

      # target: [:listing, owner] or [:package, owner, package]
      def arm(target, fault, times)
        @faults[target].concat([fault] * times)
      end

      def armed?(target)
        !@faults[target].empty?
      end

      def clear_faults
        @faults.clear
        @slow = [0.0, -1.0]
      end

      # Until `till`, every answer takes `seconds` to arrive (bytes trickling in within the
      # fetcher's read timeout), on the Fiber of the reconcile that asked.
      def slow_down(seconds, till)
        @slow = [Float(seconds), Float(till)]
      end

      # --- what the Fetcher answers ----------------------------------------------------------

      def listing_page(owner:, page:, owner_type: :org) # rubocop:disable Lint/UnusedMethodArgument
        target = [:listing, owner]
        packages = @listings.fetch(owner, [])
        last = [(packages.size.to_f / PAGE_SIZE).ceil, 1].max
        body = "listing:#{packages.each_slice(PAGE_SIZE).to_a[page - 1]&.join(',')}|next=#{page < last ? page + 1 : ''}"
        answer(target, "listing #{owner} p#{page}", body, etag: nil, truncated_body: "listing:#{body[/listing:([^|]*)/, 1]}|next=")
      end

      def package_page(owner:, package:, owner_type: :org, etag: nil) # rubocop:disable Lint/UnusedMethodArgument
        count = @counts.fetch([owner, package], nil)
        return answer([:package, owner, package], "package #{owner}/#{package}", nil, etag: nil) if count.nil?

        fresh = "c#{count}"
        answer([:package, owner, package], "package #{owner}/#{package}", "package:#{count}", etag: fresh,
                                                                                              not_modified: etag == fresh)
      end

      private

      def answer(target, what, body, etag:, not_modified: false, truncated_body: nil)
        fault = @faults[target].shift
        fault = nil if fault == :truncated_listing && truncated_body.nil?
        slow = @clock.now < @slow.last ? @slow.first : 0.0
        fault ||= :slow_timeout if slow >= TIMEOUT
        log(target, what, fault)
        Wait.for([slow, TIMEOUT].min)
        url = "https://github.test/#{what.tr(' ', '/')}"
        case fault
        when :server_error then raise StatsTracker::FetchError.new("HTTP 500 from #{url}", status: 500)
        when :rate_limited_retry_after
          raise StatsTracker::FetchError.new("HTTP 429 from #{url}", status: 429, retry_after: 5.0 + @random.rand(55))
        when :rate_limited then raise StatsTracker::FetchError.new("HTTP 429 from #{url}", status: 429)
        when :timeout then raise StatsTracker::FetchError.new("Net::ReadTimeout from #{url}", status: nil)
        when :slow_timeout
          raise StatsTracker::FetchError.new("no complete answer from #{url} within the #{TIMEOUT}s deadline", status: nil)
        when :connection_reset then raise StatsTracker::FetchError.new("EOFError from #{url}", status: nil)
        when :cut_body then Fetcher::Page.new(body: "cut:#{body}", status: 200, url: url)
        when :login_page then Fetcher::Page.new(body: "login", status: 200, url: url)
        when :rate_limit_page then Fetcher::Page.new(body: "ratelimited", status: 200, url: url)
        when :truncated_listing then Fetcher::Page.new(body: truncated_body, status: 200, url: url)
        else
          return Fetcher::Page.new(body: "notfound", status: 404, url: url) if body.nil?
          return Fetcher::Page.new(body: "", status: 304, url: url, etag: etag) if not_modified

          Fetcher::Page.new(body: body, status: 200, url: url, etag: etag)
        end
      end

      def log(target, what, fault)
        @requests << { at: @clock.now, target: target, fault: fault }
        @trace.call("github #{what}#{fault ? " -> #{fault}" : ''}")
      end
    end

    # Reads the simulated GitHub's bodies, failing as the wasm parser does on GitHub's sign-in,
    # rate-limit and not-found pages.
    class Parser
      FAILURES = { "login" => :login_required, "ratelimited" => :rate_limited, "notfound" => :not_found }.freeze

      def package(body)
        check(body)
        PackageStats.new(total_downloads: Integer(body.delete_prefix("package:")))
      end

      def listing(body)
        check(body)
        names, next_page = body.delete_prefix("listing:").split("|next=", 2)
        Listing.new(packages: names.to_s.split(",").map { |n| ListedPackage.new(name: n, repository: nil) },
                    next_page: next_page.to_s.empty? ? nil : Integer(next_page))
      end

      private

      def check(body)
        # The wasm core rejects a body that ends inside a token.
        raise StatsTracker::ParseError.new("simulated truncated", reason: :truncated) if body.start_with?("cut:")

        reason = FAILURES[body]
        raise StatsTracker::ParseError.new("simulated #{reason}", reason: reason) if reason
      end
    end
  end
end
