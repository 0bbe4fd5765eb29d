# frozen_string_literal: true

module StatsTracker
  module Operator
    module Controller
      # A binary min-heap of [due, seq, key, reason] for WorkQueue's schedule, so finding what
      # is due costs log(n) per due entry instead of a pass over every waiting key. Entries are
      # never removed from the middle: a replaced or dropped schedule stays in the heap and the
      # queue skips it when it surfaces (see #pop_due's `live` check). `seq` keeps entries with
      # equal due times in the order they were scheduled. Not thread-safe: WorkQueue's lock guards it.
      class DueHeap
        def initialize
          @entries = []
          @seq = 0
        end

        def size
          @entries.size
        end

        def empty?
          @entries.empty?
        end

        def clear
          @entries.clear
        end

        def push(due, key, reason)
          @seq += 1
          @entries << [due, @seq, key, reason].freeze
          sift_up(@entries.size - 1)
        end

        # Yields key, reason, due for each entry due at `now`, earliest first, skipping entries
        # for which `live` says the schedule no longer holds.
        def pop_due(now, live:)
          until @entries.empty? || @entries.first.first > now
            due, _, key, reason = pop
            yield key, reason, due if live.call(key, reason, due)
          end
        end

        # The earliest live due time, dropping stale entries on the way; nil when none.
        def next_due(live:)
          until @entries.empty?
            due, _, key, reason = @entries.first
            return due if live.call(key, reason, due)

            pop
          end
          nil
        end

        # Rebuilds from the live schedules (key => {reason => due}), dropping every stale entry.
        def rebuild(schedules)
          @entries.clear
          schedules.each { |key, reasons| reasons.each { |reason, due| push(due, key, reason) } }
        end

        private

        def pop
          top = @entries.first
          last = @entries.pop
          unless @entries.empty?
            @entries[0] = last
            sift_down(0)
          end
          top
        end

        def less?(a, b)
          (a[0] <=> b[0]).then { |c| c.zero? ? a[1] < b[1] : c.negative? }
        end

        def sift_up(index)
          entry = @entries[index]
          while index.positive?
            parent = (index - 1) / 2
            break unless less?(entry, @entries[parent])

            @entries[index] = @entries[parent]
            index = parent
          end
          @entries[index] = entry
        end

        def sift_down(index)
          entry = @entries[index]
          size = @entries.size
          loop do
            child = (2 * index) + 1
            break if child >= size

            child += 1 if child + 1 < size && less?(@entries[child + 1], @entries[child])
            break unless less?(@entries[child], entry)

            @entries[index] = @entries[child]
            index = child
          end
          @entries[index] = entry
        end
      end
    end
  end
end
