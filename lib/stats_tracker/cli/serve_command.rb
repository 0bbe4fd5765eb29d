# frozen_string_literal: true

require "optparse"
require_relative "history_access"

module StatsTracker
  class CLI
    # `stats-tracker serve`: the read-only dashboard over the history store, in the
    # foreground until Ctrl-C or SIGTERM.
    class ServeCommand
      BANNER = "Usage: stats-tracker serve [--listen HOST:PORT]"

      def initialize(console)
        @console = console
        @listen = "127.0.0.1:9292"
      end

      def run(args)
        rest = options.parse(args)
        raise UsageError, "serve takes no arguments, got #{rest.join(' ')}" unless rest.empty?

        HistoryAccess.guarded(@console) { serve }
      end

      def help
        options.help
      end

      private

      def options
        @options ||= OptionParser.new do |opts|
          opts.banner = BANNER
          opts.separator ""
          opts.separator "Serves the recorded history as web pages (index, one page per package) and JSON"
          opts.separator "(/api/packages, /api/packages/OWNER/PACKAGE). Read-only; needs no network."
          opts.separator ""
          opts.on("--listen HOST:PORT", "Address to listen on (default 127.0.0.1:9292; port 0 picks one)") do |addr|
            @listen = addr
          end
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
