# frozen_string_literal: true

require "json"
require "net/http"
require "openssl"

module StatsTracker
  module Operator
    module Controller
      # One watch request, streamed line by line. Unlike kubeclient 4.9.3's WatchStream it asks for
      # bookmarks and a server-side timeout, has a client read timeout (a half-open connection is
      # noticed once no bookmark arrives), and reports how the stream ended instead of returning
      # silently. #finish from another thread closes the socket.
      class WatchStream
        Gone = Class.new(StandardError)
        Failed = Class.new(StandardError)
        # Raised into the reading thread by #finish: a read blocked in wait_readable is not woken
        # by closing its socket from another thread on Ruby 3.1.
        Stopped = Class.new(StandardError)

        def initialize(url:, connection:, read_timeout: 90, open_timeout: 5)
          @url = url
          @connection = connection
          @read_timeout = read_timeout
          @open_timeout = open_timeout
          @finished = false
          @http = nil
        end

        # Yields each notice (Hash with :type and :object). Returns normally when the server ends
        # the watch; raises Gone on 410 (ERROR notice or status), Failed on other errors.
        def each(&)
          Thread.handle_interrupt(Stopped => :never) do
            @reader = Thread.current
            return if @finished

            Thread.handle_interrupt(Stopped => :immediate) { stream(&) }
          end
        rescue Stopped
          nil
        ensure
          @reader = nil
        end

        def finish
          @finished = true
          close_socket
          reader = @reader
          reader&.raise(Stopped) unless reader == Thread.current
        end

        private

        def stream
          @http = build_http
          @http.start do |http|
            next if @finished

            http.request(build_request) do |response|
              check_status(response)
              buffer = +""
              response.read_body do |chunk|
                buffer << chunk
                while (newline = buffer.index("\n"))
                  line = buffer.slice!(0..newline).strip
                  next if line.empty?

                  notice = parse(line)
                  # A notice is applied to the cache as a whole or not at all.
                  Thread.handle_interrupt(Stopped => :never) { yield notice }
                end
              end
            end
          end
        rescue Gone, Failed, Stopped
          raise
        rescue StandardError => e
          # After #finish, Net::HTTP fails in assorted ways (IOError, even NoMethodError on the
          # closed socket): all of them just mean "stopped".
          raise Failed, "watch #{@url.path}: #{e.class}: #{e.message}" unless @finished
        end

        # Releases the connection at once (the server sees the watch end); the blocked reader
        # itself is woken by Stopped.
        def close_socket
          buffered = @http&.instance_variable_get(:@socket)
          io = buffered&.io
          raw = io.respond_to?(:to_io) ? io.to_io : io
          raw&.close unless raw&.closed?
          io&.close unless io.nil? || io.closed?
        rescue IOError, SystemCallError, OpenSSL::SSL::SSLError
          nil
        end

        def parse(line)
          notice = JSON.parse(line, symbolize_names: true)
          if notice[:type] == "ERROR"
            code = notice.dig(:object, :code)
            raise Gone, notice.dig(:object, :message).to_s if code == 410

            raise Failed, "watch error #{code}: #{notice.dig(:object, :message)}"
          end
          notice
        end

        def check_status(response)
          code = response.code.to_i
          return if code == 200
          raise Gone, "HTTP 410" if code == 410

          raise Failed, "watch #{@url.path}: HTTP #{code} #{response.body.to_s[0, 200]}"
        end

        def build_http
          http = Net::HTTP.new(@url.host, @url.port)
          http.open_timeout = @open_timeout
          http.read_timeout = @read_timeout
          http.keep_alive_timeout = 0
          # Net::HTTP silently re-sends an idempotent GET once after EOF; for a watch that would
          # replay notices or hang on a dead server. The informer decides how to resume.
          http.max_retries = 0
          @connection.configure_tls(http) if @url.scheme == "https"
          http
        end

        def build_request
          request = Net::HTTP::Get.new(@url)
          request["Accept"] = "application/json"
          auth = @connection.authorization
          request["Authorization"] = auth if auth
          request
        end
      end
    end
  end
end
