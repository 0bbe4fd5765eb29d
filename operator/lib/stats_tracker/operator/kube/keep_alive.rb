# frozen_string_literal: true

require "net/http"
require "openssl"

module StatsTracker
  module Operator
    module Kube
      # One persistent HTTP connection to the API server per thread, so a worker's status writes
      # reuse one TLS session instead of paying a handshake each (kubeclient 4.9.3 over rest-client
      # opens a new connection for every call). A Net::HTTP is only ever used by the thread that
      # opened it; the shared part is the list of them, kept so #close can end them and so the
      # sockets of threads that have ended are closed.
      #
      # A connection the server closed while it sat idle shows up as EOF/reset on its next
      # request; that request is sent once more on a new connection unless it is a POST (a
      # create is the one call that is not safe to repeat).
      class KeepAlive
        # Longer than a worker's usual gap between calls; shorter than the API server's idle timeout.
        IDLE_TIMEOUT = 30
        # TLS reports a peer that closed the socket as SSLError ("unexpected eof"); on a reused
        # connection the handshake is long done, so it means the same as EOF there.
        STALE = [EOFError, Errno::ECONNRESET, Errno::EPIPE, Errno::ECONNABORTED, IOError, OpenSSL::SSL::SSLError].freeze

        # Net::HTTP reconnects on its own (a socket it found closed, an idle timeout passed); this
        # is where every new connection is counted, whoever opened it.
        class CountingHTTP < Net::HTTP
          attr_accessor :on_connect

          private

          def connect
            super
            on_connect&.call
          end
        end

        def initialize(connection:, open_timeout:, read_timeout:)
          @connection = connection
          @open_timeout = open_timeout
          @read_timeout = read_timeout
          @slot = :"stats_tracker_kube_keep_alive_#{object_id}"
          @lock = Mutex.new
          @open = {} # Thread => Net::HTTP
          @opened = 0
        end

        # Sends `request` on this thread's connection; returns the Net::HTTPResponse.
        def request(request)
          http = thread_http
          reused = http.started?
          begin
            http.start unless http.started?
            http.request(request)
          rescue *STALE
            raise unless reused && request.method != "POST"

            reused = false
            finish(http)
            retry
          end
        end

        # Connections opened so far (a reused connection is not counted again).
        def connections_opened
          @lock.synchronize { @opened }
        end

        def close
          @lock.synchronize do
            @open.each_value { |http| finish(http) }
            @open.clear
          end
        end

        private

        def thread_http
          Thread.current[@slot] ||= build_http
        end

        def build_http
          uri = URI(@connection.server)
          http = CountingHTTP.new(uri.host, uri.port)
          http.on_connect = -> { @lock.synchronize { @opened += 1 } }
          http.open_timeout = @open_timeout
          http.read_timeout = @read_timeout
          @connection.configure_tls(http) if uri.scheme == "https"
          http.keep_alive_timeout = IDLE_TIMEOUT
          # Stale connections are retried here, once, by the rule above, not by Net::HTTP's own.
          http.max_retries = 0
          @lock.synchronize do
            @open.delete_if do |thread, other|
              next false if thread.alive?

              finish(other)
              true
            end
            @open[Thread.current] = http
          end
          http
        end

        def finish(http)
          http.finish if http.started?
        rescue IOError
          nil # already closed
        end
      end
    end
  end
end
