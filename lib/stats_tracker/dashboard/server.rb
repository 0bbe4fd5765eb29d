# frozen_string_literal: true

require "logger"
require "webrick"
require_relative "app"

module StatsTracker
  module Dashboard
    # The dashboard over HTTP (WEBrick). `stats-tracker serve` runs it in the foreground; the
    # operator starts it in a thread when UI_ADDR is set.
    class Server
      DEFAULT_LISTEN = "127.0.0.1:9292"

      # "HOST:PORT" (port 0 picks a free one) -> [host, port]; raises ArgumentError otherwise.
      def self.parse_listen(text)
        match = text.to_s.match(/\A(?:\[(?<v6>[^\]]+)\]|(?<host>[^:\[\]]+)):(?<port>\d{1,5})\z/)
        port = match && Integer(match[:port], 10)
        raise ArgumentError, "listen address must be HOST:PORT, got #{text.inspect}" unless port && port <= 65_535

        [match[:v6] || match[:host], port]
      end

      def initialize(history:, listen: DEFAULT_LISTEN, log: Logger.new(File::NULL))
        @app = App.new(history: history)
        @host, @port = self.class.parse_listen(listen)
        @log = log
        @server = nil
        @thread = nil
      end

      def start
        ready = Queue.new
        @server = WEBrick::HTTPServer.new(BindAddress: @host, Port: @port, DoNotReverseLookup: true,
                                          Logger: WEBrick::Log.new(File::NULL), AccessLog: [],
                                          StartCallback: -> { ready << true })
        @server.mount_proc("/") { |req, res| respond(req, res) }
        @thread = Thread.new { @server.start }
        @thread.report_on_exception = false
        ready.pop
        self
      end

      def url
        host = @host.include?(":") ? "[#{@host}]" : @host
        "http://#{host}:#{@server.config[:Port]}/"
      end

      def wait
        @thread&.join
      end

      def stop
        @server&.shutdown
        @thread&.join(10)
        @server = nil
      end

      private

      def respond(req, res)
        # The raw path: WEBrick's req.path would decode charts%2Fflagger into two segments.
        status, type, body = @app.call(req.request_method, req.unparsed_uri)
        res.status = status
        res["Content-Type"] = type
        res["X-Content-Type-Options"] = "nosniff"
        res["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'"
        res.body = req.request_method == "HEAD" ? "" : body
      rescue StandardError => e
        @log.error("dashboard: #{e.class}: #{e.message}")
        res.status = 500
        res["Content-Type"] = "text/plain"
        res.body = "internal error\n"
      end
    end
  end
end
