# frozen_string_literal: true

require "stats_tracker/versions_chain"
require_relative "page_errors"
require_relative "../conditions"

module StatsTracker
  module Operator
    module Reconcilers
      # The opt-in part of a Leaf refresh (spec.versions): reads the package's versions pages
      # after its count was read, and folds the most downloaded tags into the status. It spends
      # only spare GitHub tokens and never raises: whatever goes wrong is the VersionsRead
      # condition, while the count, Ready and the retry schedule stay the count's business.
      class LeafVersions
        CONDITION = "VersionsRead"
        DEFAULT_LIMIT = 5
        DEFAULT_MAX_PAGES = 3
        # The status schema's bounds: a longer tag or a larger count would make the API server
        # refuse the whole status write, count included, so such a tag is left out of `top`.
        TAG_MAX = 128
        INT64_MAX = (2**63) - 1
        # GitHub's advice for a 429 without Retry-After: all requests wait at least a minute.
        RATE_LIMIT_PAUSE = 60.0

        # What a refresh found: the status to write, and the tags read (nil when none were).
        Read = Struct.new(:status, :versions, keyword_init: true)

        # acquire_spare: ->() { true | false } takes a spare GitHub token, never waiting.
        # on_rate_limited: ->(seconds) pauses every GitHub request of the process.
        def initialize(parser:, acquire_spare:, on_github_response:, on_rate_limited:)
          @parser = parser
          @acquire_spare = acquire_spare
          @on_github_response = on_github_response
          @on_rate_limited = on_rate_limited
        end

        def self.enabled?(leaf)
          !leaf.dig(:spec, :versions).nil?
        end

        # status: the Leaf's status after its count was read; fetcher: ->() { Fetcher }.
        def refresh(leaf, status, fetcher:, now:)
          return Read.new(status: without_versions(status)) unless self.class.enabled?(leaf)
          return deferred(leaf, status, 0, now) unless @acquire_spare.call

          result = chain(leaf, fetcher.call).read
          return deferred(leaf, status, result.pages, now) if result.stopped == :interrupted

          read(leaf, status, result, now)
        rescue StandardError => e
          failed(leaf, status, e, now)
        end

        private

        def chain(leaf, fetcher)
          spec = leaf[:spec]
          VersionsChain.new(max_pages: spec.dig(:versions, :maxPages) || DEFAULT_MAX_PAGES, proceed: @acquire_spare,
                            read_page: lambda { |number|
                              page = fetcher.versions_page(owner: spec[:owner], package: spec[:package],
                                                           owner_type: (spec[:ownerType] || "org").to_sym, page: number)
                              @on_github_response.call(page.status)
                              parse(page, number)
                            })
        end

        # GitHub's Retry-After travels with the HTTP answer, not the page the parser reads.
        def parse(page, number)
          @parser.versions(page.body)
        rescue StatsTracker::ParseError => e
          raise e unless page.retry_after

          raise StatsTracker::FetchError.new("versions page #{number}: #{e.reason}", status: page.status,
                                                                                     retry_after: page.retry_after)
        end

        def read(leaf, status, result, now)
          storable = result.versions.select { |v| v.downloads <= INT64_MAX }
          shown = VersionsChain::Result.new(versions: storable.select { |v| v.tag.length <= TAG_MAX }, pages: 0, stopped: nil)
          top = shown.top(leaf.dig(:spec, :versions, :limit) || DEFAULT_LIMIT).map { |v| { tag: v.tag, downloads: v.downloads } }
          more = result.stopped == :page_limit ? "; more pages may follow (spec.versions.maxPages)" : ""
          fresh = status.merge(versions: { lastUpdate: Conditions.timestamp(now), pages: result.pages,
                                           tags: result.versions.size, top: top })
          message = "#{result.versions.size} tags on #{result.pages} versions pages#{more}"
          Read.new(status: with_condition(leaf, fresh, "True", "Succeeded", message, now), versions: storable)
        end

        # Counts come first: a read that found no spare token waits for the next refresh.
        def deferred(leaf, status, pages, now)
          message = "no spare GitHub budget after #{pages} versions pages; read again at the next refresh"
          Read.new(status: with_condition(leaf, status, "False", "BudgetExhausted", message, now))
        end

        def failed(leaf, status, error, now)
          failure = PageErrors.from_exception(error, what: "versions of #{leaf.dig(:spec, :owner)}/#{leaf.dig(:spec, :package)}")
          @on_rate_limited.call(failure.retry_after || RATE_LIMIT_PAUSE) if failure.reason == "RateLimited"
          Read.new(status: with_condition(leaf, status, "False", failure.reason, failure.message, now))
        end

        def with_condition(leaf, status, state, reason, message, now)
          status.merge(conditions: Conditions.set(status[:conditions], type: CONDITION, status: state, reason: reason,
                                                                       message: message, now: now,
                                                                       generation: leaf.dig(:metadata, :generation)))
        end

        # Opting out drops what the versions reads left, so no stale top tag is shown.
        def without_versions(status)
          return status unless status.key?(:versions) || Conditions.find(status[:conditions], CONDITION)

          status.merge(versions: nil, conditions: Conditions.remove(status[:conditions], CONDITION))
        end
      end
    end
  end
end
