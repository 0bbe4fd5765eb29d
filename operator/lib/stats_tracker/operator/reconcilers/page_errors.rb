# frozen_string_literal: true

require_relative "outcome"
require_relative "../github_tokens"

module StatsTracker
  module Operator
    module Reconcilers
      # Maps what can go wrong while reading one GitHub page to a condition reason. Shared by the
      # Leaf (package page) and Project (listing pages) reconcilers.
      module PageErrors
        PARSE_REASONS = {
          rate_limited: "RateLimited", not_found: "NotFound", login_required: "LoginRequired"
        }.freeze

        module_function

        def from_exception(error, what:)
          case error
          when GithubTokens::SecretUnavailable
            Failure.new(reason: "SecretNotFound", message: "#{what}: #{error.message}; the operator's own token is " \
                                                           "never used in its place")
          when StatsTracker::ParseError then from_parse(error, what: what)
          when StatsTracker::FetchError then from_fetch(error, what: what)
          when StatsTracker::Error
            Failure.new(reason: "ParseFailed", message: "#{what}: #{error.class.name.split('::').last}: #{error.message}")
          else
            Failure.new(reason: "FetchFailed", message: "#{what}: #{error.class}: #{error.message}")
          end
        end

        def from_parse(error, what:)
          reason = PARSE_REASONS.fetch(error.reason, "ParseFailed")
          Failure.new(reason: reason, message: "#{what}: parser rejected the page (#{error.reason})",
                      retry_after: error.respond_to?(:retry_after) ? error.retry_after : nil,
                      stalled: reason == "LoginRequired")
        end

        def from_fetch(error, what:)
          reason = case error.status
                   when 429 then "RateLimited"
                   when 404 then "NotFound"
                   when 401, 403 then "Forbidden"
                   else "FetchFailed"
                   end
          Failure.new(reason: reason, message: "#{what}: #{error.message}", retry_after: error.retry_after)
        end

        # A 404/429 page the parser did not recognise as such is still a failed fetch.
        def from_status(page, what:)
          reason = { 429 => "RateLimited", 404 => "NotFound" }.fetch(page.status, "FetchFailed")
          Failure.new(reason: reason, message: "#{what}: HTTP #{page.status} from #{page.url}",
                      retry_after: page.respond_to?(:retry_after) ? page.retry_after : nil)
        end
      end
    end
  end
end
