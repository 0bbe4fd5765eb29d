# frozen_string_literal: true

require "net/http"

module StatsTracker
  class Fetcher
    # Keeps started Net::HTTP sessions to the one origin a Fetcher talks to, so consecutive
    # pages (listing page 1, 2, 3...) reuse a TCP/TLS connection. A session is used by one
    # thread at a time: it is checked out, used, and checked back in; a session that failed
    # is closed instead, because its stream state is unknown.
    class ConnectionPool
      def initialize(uri:, open_timeout:, read_timeout:, size: 4)
        @uri = uri
        @open_timeout = open_timeout
        @read_timeout = read_timeout
        @size = size
        @idle = []
        @lock = Mutex.new
      end

      def with_connection
        http = checkout
        healthy = false
        result = yield http
        healthy = true
        result
      ensure
        healthy ? checkin(http) : discard(http)
      end

      def close
        sessions = @lock.synchronize { @idle.slice!(0..) }
        sessions.each { |http| discard(http) }
      end

      private

      def checkout
        @lock.synchronize { @idle.pop } || open
      end

      def checkin(http)
        spare = @lock.synchronize do
          next http if @idle.size >= @size

          @idle.push(http)
          nil
        end
        discard(spare) if spare
      end

      def discard(http)
        http&.finish if http&.started?
      rescue IOError, SystemCallError
        nil # already closed by the peer; nothing left to release
      end

      def open
        http = Net::HTTP.new(@uri.host, @uri.port)
        http.use_ssl = @uri.scheme == "https"
        http.open_timeout = @open_timeout
        http.read_timeout = @read_timeout
        http.write_timeout = @read_timeout
        http.max_retries = 0 # our RetryPolicy decides, with backoff; Net::HTTP would retry at once
        http.start
      end
    end
  end
end
