# frozen_string_literal: true

require "stats_tracker/backoff"
require_relative "due_heap"

module StatsTracker
  module Operator
    module Controller
      # A work queue in the client-go mould: a key is queued at most once (dirty set), is never
      # handed to two workers at the same time (processing set; a key re-added while it is being
      # processed is queued again when the worker calls #done), and carries a per-key failure
      # count for exponential backoff with jitter.
      #
      # It also holds the one schedule of each key: a set of pending reasons (a retry after a
      # failure, the interval, an aggregate, ...), each with its due time. The key is due at the
      # earliest of them; when it is handed out only the reasons already due are used up, so
      # handling one reason never drops another (an event during a backoff leaves the retry due).
      #
      # Ready keys are handed out round-robin across namespaces (a key's #namespace, if it has
      # one), so a tenant with a thousand queued objects does not make another tenant's wait.
      class WorkQueue
        # A failure's retry: a new failure replaces it, a success (#forget) removes it.
        RETRY = :retry

        def initialize(backoff: StatsTracker::Backoff.new, clock: -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) })
          @backoff = backoff
          @clock = clock
          @queue = Hash.new { |h, ns| h[ns] = [] }
          @turns = []
          @dirty = {}
          @processing = {}
          @waiting = {}
          @due = DueHeap.new
          @live = ->(key, reason, due) { @waiting.dig(key, reason) == due }
          @failures = Hash.new(0)
          @shutdown = false
          @lock = Mutex.new
          @cond = ConditionVariable.new
        end

        # Queues `key` now. Later reasons it has pending stay pending.
        def add(key)
          @lock.synchronize do
            return if @shutdown

            enqueue(key)
          end
        end

        # Adds `reason` to the key's schedule, due `delay` seconds from now. Of two schedules
        # for the same reason the earlier wins; other reasons are untouched.
        def add_after(key, delay, reason: :requeue)
          return add(key) if delay <= 0

          @lock.synchronize do
            return if @shutdown

            due = @clock.call + delay
            reasons = (@waiting[key] ||= {})
            schedule(key, reason, due) if !reasons.key?(reason) || due < reasons[reason]
            @cond.broadcast
          end
        end

        # Schedules the retry of a failure `delay` seconds from now, replacing an earlier retry
        # (the latest failure decides how long to back off).
        def retry_after(key, delay)
          @lock.synchronize do
            return if @shutdown

            (@waiting[key] ||= {})
            schedule(key, RETRY, @clock.call + delay)
            @cond.broadcast
          end
        end

        # Records a failure and schedules a retry after the backoff delay (with `cap` as its
        # ceiling if given), or `at_least` seconds if that is longer (Retry-After from GitHub);
        # returns the delay chosen.
        def add_rate_limited(key, at_least: 0, cap: nil)
          delay = @lock.synchronize do
            attempt = @failures[key]
            @failures[key] += 1
            [@backoff.delay(attempt, cap: cap), at_least.to_f].max
          end
          retry_after(key, delay)
          delay
        end

        def failures(key)
          @lock.synchronize { @failures.fetch(key, 0) }
        end

        # A success: the failure count and any pending retry go.
        def forget(key)
          @lock.synchronize do
            @failures.delete(key)
            drop_reason(key, RETRY)
          end
        end

        # Seconds until `reason` is due for `key`, or nil when it is not pending.
        def pending(key, reason)
          @lock.synchronize do
            due = @waiting.dig(key, reason)
            due && (due - @clock.call)
          end
        end

        # The key's next scheduled look: [reason, seconds from now], or nil.
        def next_due(key)
          @lock.synchronize do
            reason, due = @waiting[key]&.min_by { |_, at| at }
            reason && [reason, due - @clock.call]
          end
        end

        # Blocks until a key is ready; returns nil once shut down and drained of ready keys.
        def get(timeout: nil)
          deadline = timeout && (@clock.call + timeout)
          @lock.synchronize do
            loop do
              promote_due
              unless @turns.empty?
                key = take_turn
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
              push(key)
              @cond.signal
            end
          end
        end

        def shutdown
          @lock.synchronize do
            @shutdown = true
            @waiting.clear
            @due.clear
            @cond.broadcast
          end
        end

        def depth
          @lock.synchronize { @queue.each_value.sum(&:size) }
        end

        # Keys with at least one reason pending for later.
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

          push(key)
          @cond.signal
        end

        def push(key)
          namespace = key.respond_to?(:namespace) ? key.namespace : nil
          @turns << namespace if @queue[namespace].empty?
          @queue[namespace] << key
        end

        # The next namespace in turn gives its oldest ready key, and goes to the back of the line
        # if it has more.
        def take_turn
          namespace = @turns.shift
          keys = @queue[namespace]
          key = keys.shift
          keys.empty? ? @queue.delete(namespace) : @turns << namespace
          key
        end

        def drop_reason(key, reason)
          reasons = @waiting[key] or return
          reasons.delete(reason)
          @waiting.delete(key) if reasons.empty?
        end

        def schedule(key, reason, due)
          @waiting[key][reason] = due
          @due.push(due, key, reason)
          # Replaced and dropped schedules stay in the heap until they surface; rebuild when they
          # outnumber the live ones so a key rescheduled often cannot grow it without bound.
          @due.rebuild(@waiting) if @due.size > (4 * @waiting.size) + 1024
        end

        # Due reasons are used up; the key is queued once for all of them, in due-time order.
        def promote_due
          @due.pop_due(@clock.call, live: @live) do |key, reason|
            drop_reason(key, reason)
            enqueue(key)
          end
        end

        def next_wakeup(deadline)
          now = @clock.call
          candidates = []
          due = @due.next_due(live: @live)
          candidates << (due - now) if due
          candidates << (deadline - now) if deadline
          return nil if candidates.empty?

          [candidates.min, 0.001].max
        end
      end
    end
  end
end
