# frozen_string_literal: true

module StatsTracker
  # Says once per process, per reason, that compiled code is not being cached on disk and
  # why (an unsafe cache directory or ancestor turns the cache off rather than trusting it).
  # Kernel#warn by default; a program with its own log format (the operator) sets `reporter`.
  module CacheOffNotice
    @told = {}
    @reporter = ->(reason) { Kernel.warn("stats_tracker: module cache off: #{reason}") }

    class << self
      attr_writer :reporter

      # Reports Native.cache_off_reason unless it was reported already. Called after a compile.
      def check
        reason = Native.cache_off_reason
        return if reason.nil? || @told.key?(reason)

        @told[reason] = true
        @reporter.call(reason)
      end
    end
  end
end
