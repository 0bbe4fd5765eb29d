# frozen_string_literal: true

require_relative "command"

module StatsTracker
  class CLI
    # `stats-tracker parse [--kind package|versions|listing] FILE|-`: one saved page in,
    # one JSON object out.
    class ParseCommand < Command
      BANNER = "Usage: stats-tracker parse [--kind package|versions|listing] [--pretty] FILE|-"
      ABOUT = <<~TEXT
        Parses a saved GHCR page and prints its statistics as JSON. FILE - reads stdin.
      TEXT
      # Far above any real page; the parser rejects big inputs as too_large, this only keeps
      # a mistaken multi-gigabyte argument from being read into memory.
      MAX_INPUT_BYTES = 256 * 1024 * 1024

      def initialize(console)
        super
        @kind = "package"
      end

      def run(args)
        paths = options.parse(args)
        raise UsageError, "parse takes one FILE (or - for stdin), got #{paths.size}" if paths.size > 1

        source = paths.first || "-"
        raise UsageError, "parse needs a FILE (or - with the page on stdin)" if source == "-" && interactive_stdin?

        html = read(source)
        @console.emit(parse(html))
        ExitCodes::OK
      rescue ParseError => e
        CLI.report_reject(@console, e, kind: @kind, source: source)
      end

      private

      def define_options(opts)
        opts.on("--kind KIND", ParserAccess::KINDS, "Page kind: #{ParserAccess::KINDS.join(', ')} (default package)") do |kind|
          @kind = kind
        end
        opts.on("--pretty", "Indent the JSON") { @console.pretty = true }
      end

      def parse(html)
        ResultShape.parse(ParserAccess.parser, @kind, html)
      end

      def read(source)
        data = source == "-" ? @console.stdin.binmode.read(MAX_INPUT_BYTES + 1) : File.binread(source, MAX_INPUT_BYTES + 1)
        data ||= "".b # IO#read with a length returns nil at EOF; an empty page is still a page
        raise InputTooLarge, "#{source}: larger than #{MAX_INPUT_BYTES} bytes" if data.bytesize > MAX_INPUT_BYTES

        data
      end

      def interactive_stdin?
        @console.stdin.respond_to?(:tty?) && @console.stdin.tty?
      end
    end
  end
end
