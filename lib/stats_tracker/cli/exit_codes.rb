# frozen_string_literal: true

module StatsTracker
  class CLI
    # The CLI's exit statuses. Documented in --help and README; scripts branch on them.
    module ExitCodes
      OK = 0
      REJECTED = 1      # the parser rejected the page; the reason is on stdout (JSON) and stderr
      USAGE = 2         # bad command line
      IO_ERROR = 3      # a file could not be read or stdout could not be written
      FETCH_FAILED = 4  # HTTP failed after retries, or a page chain made no sense
      PARSER_FAILED = 5 # the sandboxed parser trapped, timed out, hit a limit or could not load
      STORE_FAILED = 6  # the history database: bad URL, unreachable, read-only or refused a write
      INTERRUPTED = 130 # Ctrl-C (128 + SIGINT)

      DESCRIPTIONS = {
        OK => "success: JSON on stdout",
        REJECTED => "page rejected by the parser (reason in the JSON on stdout and on stderr)",
        USAGE => "usage error",
        IO_ERROR => "file or stream I/O error",
        FETCH_FAILED => "fetch failed (HTTP error, timeout or refused connection after retries)",
        PARSER_FAILED => "parser failure (sandbox trap, timeout, resource limit, extension not built)",
        STORE_FAILED => "history store failure (bad STATS_TRACKER_DATABASE_URL, database unreachable or read-only)",
        INTERRUPTED => "interrupted"
      }.freeze
    end
  end
end
