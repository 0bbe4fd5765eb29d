# frozen_string_literal: true

require_relative "version"
require_relative "error"
require_relative "cli/exit_codes"
require_relative "result_shape"
require_relative "cli/progress"
require_relative "cli/console"
require_relative "cli/parser_access"
require_relative "cli/parse_command"
require_relative "cli/fetch_command"
require_relative "cli/history_command"
require_relative "cli/serve_command"

module StatsTracker
  # The `stats-tracker` command: picks the subcommand, and turns every failure into a
  # message on stderr and one of the documented exit codes (never a Ruby backtrace).
  class CLI
    # A command line the CLI cannot act on.
    class UsageError < StandardError; end

    # A saved page that is too large to be a page.
    class InputTooLarge < StandardError; end

    SANDBOX_ERRORS = [TrapError, TimeoutError, ResourceLimitError, CompileError, StatsTracker::Interrupt].freeze

    def self.start(argv, stdin: $stdin, stdout: $stdout, stderr: $stderr, env: ENV)
      new(stdin: stdin, stdout: stdout, stderr: stderr, env: env).run(argv)
    end

    # Shared by the commands: the reject goes to stdout in expected.json's shape (so a
    # script sees why) and to stderr for the person.
    def self.report_reject(console, error, kind:, source:)
      console.emit(ResultShape.reject(error.reason, kind))
      console.warn("#{source ? "#{source}: " : ''}#{kind} page rejected (#{error.reason}): #{error.message}")
      ExitCodes::REJECTED
    end

    def initialize(stdin: $stdin, stdout: $stdout, stderr: $stderr, env: ENV)
      @console = Console.new(stdin: stdin, stdout: stdout, stderr: stderr, env: env)
    end

    def run(argv)
      args = argv.dup
      command = args.shift
      dispatch(command, args)
    rescue UsageError, OptionParser::ParseError => e
      usage_error(e.message)
    rescue InputTooLarge, SystemCallError, IOError => e
      io_error(e)
    rescue FetchError, IncompleteListingError => e
      fail_with(ExitCodes::FETCH_FAILED, "fetch failed: #{e.message}")
    rescue *SANDBOX_ERRORS => e
      fail_with(ExitCodes::PARSER_FAILED, "parser failed (#{e.class.name.split('::').last}): #{e.message}")
    rescue LoadError => e
      fail_with(ExitCodes::PARSER_FAILED, "native extension not available (#{e.message}); run `rake compile`")
    rescue ::Interrupt
      ExitCodes::INTERRUPTED
    end

    private

    def dispatch(command, args)
      case command
      when "parse" then subcommand(ParseCommand, args)
      when "fetch" then subcommand(FetchCommand, args)
      when "history" then subcommand(HistoryCommand, args)
      when "serve" then subcommand(ServeCommand, args)
      when "-h", "--help", "help" then help
      when "-v", "--version", "version" then version
      when nil then usage_error("no command given")
      else usage_error("unknown command #{command.inspect}")
      end
    end

    def subcommand(klass, args)
      command = klass.new(@console)
      # Answered before OptionParser sees them: its built-in handlers would call exit.
      return print_and_ok(command.help) if args.include?("-h") || args.include?("--help")
      return version if args.include?("--version")

      command.run(args)
    end

    def help
      print_and_ok(<<~HELP)
        stats-tracker #{VERSION}: download counts of GitHub Container Registry packages, read from
        their web pages by a Rust parser sandboxed in WebAssembly.

        #{ParseCommand::BANNER}
        #{FetchCommand::BANNER.gsub(/^Usage: /, '       ')}
        #{HistoryCommand::BANNER.gsub(/^Usage: /, '       ')}
        #{ServeCommand::BANNER.gsub(/^Usage: /, '       ')}
               stats-tracker --version | --help

        Commands:
          parse   parse a saved page (package, versions or listing) and print its JSON
          fetch   fetch a package page, its versions or an owner's listing, and print the JSON
                  (--record also stores it in the history database)
          history print the recorded downloads of a package over time (table, CSV or JSON)
          serve   serve the recorded history as a read-only web dashboard

        The history database is STATS_TRACKER_DATABASE_URL (sqlite:///PATH or postgres://...), or
        SQLite under ${XDG_DATA_HOME:-~/.local/share}/stats_tracker/ when it is unset.

        `stats-tracker COMMAND --help` lists each command's options. Output is one JSON object on
        stdout, shaped as in the parser's acceptance corpus (expected.json).

        Exit codes:
        #{ExitCodes::DESCRIPTIONS.map { |code, text| format('  %-4d%s', code, text) }.join("\n")}
      HELP
    end

    def version
      print_and_ok("stats-tracker #{VERSION} (wasmtime #{ParserAccess.wasmtime_version}, ruby #{RUBY_VERSION})\n")
    end

    def print_and_ok(text)
      @console.stdout.write(text.end_with?("\n") ? text : "#{text}\n")
      ExitCodes::OK
    end

    def usage_error(message)
      @console.warn(message)
      @console.stderr.write("Run `stats-tracker --help` for usage.\n")
      ExitCodes::USAGE
    end

    def io_error(error)
      return ExitCodes::IO_ERROR if error.is_a?(Errno::EPIPE) # the reader went away; nobody to tell

      fail_with(ExitCodes::IO_ERROR, error.message)
    end

    def fail_with(code, message)
      @console.warn(message)
      code
    end
  end
end
