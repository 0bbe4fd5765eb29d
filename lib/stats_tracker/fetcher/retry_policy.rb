# frozen_string_literal: true

require "time"
require_relative "../backoff"

module StatsTracker
  class Fetcher
    # Decides whether and how long to wait before another attempt: exponential backoff with
    # jitter (so many clients that failed together do not retry together), never sooner than
    # the server's Retry-After, and giving up when the server asks for more than max_wait.
    class RetryPolicy
      RETRYABLE_STATUSES = [429, 500, 502, 503, 504].freeze

      attr_reader :max_retries, :base_delay, :max_delay, :max_wait

      def initialize(max_retries: 3, base_delay: 0.5, max_delay: 30.0, max_wait: 120.0, random: Random.new)
        raise ArgumentError, "max_retries must be >= 0" if max_retries.negative?

        @max_retries = max_retries
        @base_delay = base_delay.to_f
        @max_delay = max_delay.to_f
        @max_wait = max_wait.to_f
        @random = random
        @backoff = Backoff.new(base: @base_delay, cap: @max_delay, random: random)
      end

      def retryable_status?(status)
        RETRYABLE_STATUSES.include?(status)
      end

      # Seconds to wait before retry number attempt + 1 (attempt counts from 0), or nil when
      # no retry should happen: attempts are used up, or Retry-After is beyond max_wait.
      def delay(attempt:, retry_after: nil)
        return nil if attempt >= max_retries
        return nil if retry_after && retry_after > max_wait

        backoff = @backoff.delay(attempt)
        retry_after ? retry_after + (@random.rand * base_delay) : backoff
      end

      # Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3).
      # Returns seconds from now (>= 0), or nil when absent or unreadable.
      def self.parse_retry_after(value, now: Time.now)
        return nil if value.nil?

        text = value.strip
        return Integer(text, 10).to_f if text.match?(/\A\d+\z/)

        [(Time.httpdate(text) - now).to_f, 0.0].max
      rescue ArgumentError
        nil
      end
    end
  end
end
