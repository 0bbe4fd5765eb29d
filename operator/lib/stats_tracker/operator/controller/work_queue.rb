# frozen_string_literal: true

require_relative "backoff"

module StatsTracker
  module Operator
    module Controller
      # A work queue in the client-go mould: a key is queued at most once (dirty set), is never
      # handed to two workers at the same time (processing set; a key re-added while it is being
      # processed is queued again when the worker calls #done), can be scheduled for later, and
      # carries a per-key failure count for exponential backoff with jitter.
      class WorkQueue
        def initialize(backoff: Backoff.new, clock: -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) })
          @backoff = backoff
          @clock = clock
          @queue = []
          @dirty = {}
          @processing = {}
          @waiting = {}
          @failures = Hash.new(0)
          @shutdown = false
          @lock = Mutex.new
          @cond = ConditionVariable.new
        end

        def add(key)
          @lock.synchronize do
            return if @shutdown

            @waiting.delete(key)
            enqueue(key)
          end
        end

        # Schedules `key` no later than `delay` seconds from now; an earlier schedule wins.
        def add_after(key, delay)
          return add(key) if delay <= 0

          @lock.synchronize do
            return if @shutdown || @dirty.key?(key)

            due = @clock.call + delay
            @waiting[key] = due if !@waiting.key?(key) || due < @waiting[key]
            @cond.broadcast
          end
        end

        # Records a failure and schedules a retry after the backoff delay, or `at_least` seconds
        # if that is longer (Retry-After from GitHub); returns the delay chosen.
        def add_rate_limited(key, at_least: 0)
          delay = @lock.synchronize do
            attempt = @failures[key]
            @failures[key] += 1
            [@backoff.delay(attempt), at_least.to_f].max
          end
          add_after(key, delay)
          delay
        end

        def failures(key)
          @lock.synchronize { @failures.fetch(key, 0) }
        end

        def forget(key)
          @lock.synchronize { @failures.delete(key) }
        end

        # Blocks until a key is ready; returns nil once shut down and drained of ready keys.
        def get(timeout: nil)
          deadline = timeout && (@clock.call + timeout)
          @lock.synchronize do
            loop do
              promote_due
              unless @queue.empty?
                key = @queue.shift
                @dirty.delete(key)
                @processing[key] = true
                return key
              end
              return nil if @shutdown

              return nil if deadline && @clock.call >= deadline

              @cond.wait(@lock, next_wakeup(deadline))
            end
          end
        end

        def done(key)
          @lock.synchronize do
            @processing.delete(key)
            if @dirty.key?(key)
              @queue << key
              @cond.signal
            end
          end
        end

        def shutdown
          @lock.synchronize do
            @shutdown = true
            @waiting.clear
            @cond.broadcast
          end
        end

        def shutting_down?
          @lock.synchronize { @shutdown }
        end

        def depth
          @lock.synchronize { @queue.size }
        end

        def scheduled
          @lock.synchronize { @waiting.size }
        end

        def processing?
          @lock.synchronize { !@processing.empty? }
        end

        private

        def enqueue(key)
          return if @dirty.key?(key)

          @dirty[key] = true
          return if @processing.key?(key)

          @queue << key
          @cond.signal
        end

        def promote_due
          return if @waiting.empty?

          now = @clock.call
          due = @waiting.select { |_, at| at <= now }.keys
          due.each do |key|
            @waiting.delete(key)
            enqueue(key)
          end
        end

        def next_wakeup(deadline)
          now = @clock.call
          candidates = []
          candidates << (@waiting.values.min - now) unless @waiting.empty?
          candidates << (deadline - now) if deadline
          return nil if candidates.empty?

          [candidates.min, 0.001].max
        end
      end
    end
  end
end
