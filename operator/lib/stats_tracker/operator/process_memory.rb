# frozen_string_literal: true

require "etc"

module StatsTracker
  module Operator
    # The operator's resident memory as the kernel counts it (what a Pod's memory limit
    # compares against), for /metrics; nil where /proc is not available.
    module ProcessMemory
      PAGE_SIZE = Etc.sysconf(Etc::SC_PAGESIZE)

      module_function

      def rss_bytes(statm: "/proc/self/statm")
        Integer(File.read(statm).split[1]) * PAGE_SIZE
      rescue SystemCallError, ArgumentError, TypeError
        nil
      end
    end
  end
end
