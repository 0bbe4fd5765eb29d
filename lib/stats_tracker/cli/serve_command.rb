# frozen_string_literal: true

require_relative "command"
require_relative "history_access"

module StatsTracker
  class CLI
    # `stats-tracker serve`: the read-only dashboard over the history store, in the
    # foreground until Ctrl-C or SIGTERM.
    class ServeCommand < Command
      BANNER = "Usage: stats-tracker serve [--listen HOST:PORT]"
      ABOUT = <<~TEXT
        Serves the recorded history as web pages (index, one page per package) and JSON
        (/api/packages, /api/packages/OWNER/PACKAGE). Read-only; needs no network.
      TEXT

      def initialize(console)
        super
        @listen = "127.0.0.1:9292"
      end

      def run(args)
        rest = options.parse(args)
        raise UsageError, "serve takes no arguments, got #{rest.join(' ')}" unless rest.empty?

        HistoryAccess.guarded(@console) { serve }
      end

      private

      def define_options(opts)
        opts.on("--listen HOST:PORT", "Address to listen on (default 127.0.0.1:9292; port 0 picks one)") do |addr|
          @listen = addr
        end
      end

      def serve
        require_relative "../dashboard"
        history = HistoryAccess.open(@console)
        server = start_server(history)
        @console.warn("dashboard at #{server.url} (store #{history.location}); Ctrl-C stops it")
        stop = Queue.new
        previous = %w[INT TERM].to_h { |signal| [signal, trap(signal) { stop << signal }] }
        stop.pop
        ExitCodes::OK
      ensure
        previous&.each { |signal, handler| trap(signal, handler || "DEFAULT") }
        server&.stop
        history&.close
      end

      def start_server(history)
        Dashboard::Server.new(history: history, listen: @listen).start
      rescue ArgumentError => e
        raise UsageError, e.message
      rescue SocketError => e
        raise UsageError, "cannot listen on #{@listen}: #{e.message}"
      rescue SystemCallError => e
        raise e.class, "listen on #{@listen}" # exit 3, e.g. "Address already in use - listen on ..."
      end
    end
  end
end
