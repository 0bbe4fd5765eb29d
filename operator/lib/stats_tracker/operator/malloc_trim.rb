# frozen_string_literal: true

require "fiddle"
require_relative "process_memory"

module StatsTracker
  module Operator
    # glibc's malloc keeps memory freed in the middle of an arena instead of giving it back:
    # after a relist or a round of refreshes the RSS stays where the peak left it, while Ruby
    # itself holds no more than before (bench/memory_census.rb with CENSUS_RELISTS shows the
    # growth as arena memory that is free but kept). malloc_trim(0) hands those pages back.
    # Where the C library has no malloc_trim (musl; jemalloc returns memory on its own) it is a
    # no-op.
    module MallocTrim
      module_function

      def available?
        !function.nil?
      end

      # Trims every arena; returns the bytes of RSS given back (0 when nothing was), nil when
      # malloc_trim is not available.
      def call
        return nil unless available?

        before = ProcessMemory.rss_bytes
        function.call(0)
        after = ProcessMemory.rss_bytes
        before && after ? [before - after, 0].max : 0
      end

      def function
        return @function if defined?(@function)

        @function = Fiddle::Function.new(Fiddle.dlopen(nil)["malloc_trim"], [Fiddle::TYPE_SIZE_T], Fiddle::TYPE_INT)
      rescue Fiddle::DLError
        @function = nil
      end
    end
  end
end
