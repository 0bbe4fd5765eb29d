# frozen_string_literal: true

module StatsTracker
  # Root of every error the gem raises on purpose. Defined in Ruby before the native
  # extension loads: the extension looks up the classes it raises once, when it loads,
  # and refuses to load (LoadError) if one is missing.
  class Error < StandardError; end

  # The page yields no statistics. #reason is a Symbol naming why (see REASONS).
  class ParseError < Error
    # The WIT enum `reject-reason` (wasm/wit/ghcr-parser.wit) is the source of this list, in its
    # order; spec/stats_tracker/reject_reasons_spec.rb fails when the two differ.
    REASONS = %i[
      empty not_html too_large truncated too_deep not_found rate_limited
      login_required malformed_count ambiguous no_statistics
    ].freeze

    attr_reader :reason

    def initialize(message = nil, reason: :no_statistics)
      @reason = reason
      super(message || "page rejected: #{reason}")
    end
  end

  # The guest trapped (a bug or hostile module); the message carries the wasm backtrace.
  class TrapError < Error; end

  # The guest ran past its time limit (epoch deadline).
  class TimeoutError < Error; end

  # The guest hit a memory, output or input cap.
  class ResourceLimitError < Error; end

  # A module or component could not be compiled, validated or linked.
  class CompileError < Error; end

  # Kept for compatibility: guest calls no longer raise it. An interrupt of the calling
  # thread either raises its own exception (Thread#raise, Thread#kill, Ctrl-C) or, if it
  # raises nothing, the call carries on.
  class Interrupt < Error; end

  # Fetching a page over HTTP failed (lib/stats_tracker/fetcher.rb).
  class FetchError < Error
    attr_reader :status, :retry_after

    def initialize(message = nil, status: nil, retry_after: nil)
      @status = status
      @retry_after = retry_after
      super(message)
    end
  end
end
