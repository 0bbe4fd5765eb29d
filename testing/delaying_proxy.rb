# frozen_string_literal: true

require "socket"

module StatsTracker
  module Testing
    # A TCP proxy on 127.0.0.1 in front of another local server (the API server), forwarding bytes
    # unchanged (TLS passes through) and holding each chunk from the client for #delay seconds
    # first: a slow API server or network for one client while others talk to the server
    # directly. #connections counts the connections accepted (how many the client opened); #cut
    # closes the open ones but keeps accepting (a server dropping idle connections). #stop closes
    # every connection.
    class DelayingProxy
      attr_accessor :delay
      attr_reader :connections

      def initialize(upstream_port:, upstream_host: "127.0.0.1")
        @upstream_host = upstream_host
        @upstream_port = upstream_port
        @delay = 0.0
        @connections = 0
        @sockets = []
        @threads = []
        @lock = Mutex.new
      end

      def start
        @server = TCPServer.new("127.0.0.1", 0)
        @threads << Thread.new { accept_loop }
        self
      end

      def port
        @server.addr[1]
      end

      def cut
        @lock.synchronize do
          @sockets.each { |s| s.close unless s.closed? }
          @sockets.clear
        end
      end

      def stop
        @server&.close
        @lock.synchronize { @sockets.each { |s| s.close unless s.closed? } }
        @threads.each { |t| t.join(5) }
      end

      private

      def accept_loop
        loop do
          client = @server.accept
          upstream = TCPSocket.new(@upstream_host, @upstream_port)
          @lock.synchronize do
            @connections += 1
            @sockets.push(client, upstream)
            @threads << Thread.new { pipe(client, upstream, delayed: true) }
            @threads << Thread.new { pipe(upstream, client, delayed: false) }
          end
        end
      rescue IOError, SystemCallError
        nil # closed by #stop
      end

      def hold
        until_at = Process.clock_gettime(Process::CLOCK_MONOTONIC) + @delay
        sleep 0.05 while !@server.closed? && Process.clock_gettime(Process::CLOCK_MONOTONIC) < until_at
      end

      def pipe(from, to, delayed:)
        loop do
          chunk = from.readpartial(64 * 1024)
          hold if delayed
          to.write(chunk)
        end
      rescue IOError, SystemCallError
        [from, to].each { |s| s.close unless s.closed? }
      end
    end
  end
end
