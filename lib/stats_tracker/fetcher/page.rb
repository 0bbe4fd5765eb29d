# frozen_string_literal: true

module StatsTracker
  class Fetcher
    # One HTTP answer worth handing to the parser: a 200 page, a 304 (the caller's copy is
    # current), or a 429/404 HTML page the parser classifies (rate_limited, not_found).
    class Page
      attr_reader :body, :status, :etag, :url, :retry_after

      # retry_after: seconds the server asked us to wait (Retry-After), so a caller that got a
      # 429 page back (the operator, with max_retries: 0) can requeue itself that far out.
      def initialize(body:, status:, url:, etag: nil, retry_after: nil)
        @body = (status == 304 ? "" : body).dup.force_encoding(Encoding::BINARY).freeze
        @retry_after = retry_after
        @status = status
        @etag = etag
        @url = url
        freeze
      end

      def not_modified?
        status == 304
      end

      def inspect
        "#<#{self.class.name} status=#{status} url=#{url} bytes=#{body.bytesize} etag=#{etag.inspect}>"
      end
    end
  end
end
