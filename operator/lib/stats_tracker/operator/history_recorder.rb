# frozen_string_literal: true

module StatsTracker
  module Operator
    # Hands each package observation the Leaf reconciler made to the history store, on its own
    # thread: a reconcile only appends to a queue, so a slow or unreachable database never
    # delays or fails a Leaf's status. A failed write stays at the head of the queue and is
    # retried with backoff; failures and the backlog are visible as metrics. An observation the
    # store refuses for what it holds (not because the database is away) is dropped after a few
    # attempts, so it cannot hold back every observation behind it.
    class HistoryRecorder
      MAX_PENDING = 10_000
      ATTEMPTS = 5
      WRITES = "stats_tracker_history_writes_total"
      PENDING = "stats_tracker_history_pending_observations"
      LAST_WRITE = "stats_tracker_history_last_write_timestamp_seconds"

      def self.register_metrics(metrics)
        metrics.counter(WRITES, "Observations written to the history store, by result (ok, error, dropped, rejected)")
        metrics.gauge(PENDING, "Observations waiting to be written to the history store")
        metrics.gauge(LAST_WRITE, "Unix time of the last successful write to the history store")
      end

      # open: -> StatsTracker::History, called again after a failure (a fresh connection).
      def initialize(open:, metrics:, logger:, retry_base: 1.0, retry_cap: 300.0)
        @open = open
        @metrics = metrics
        @logger = logger
        @retry_base = retry_base
        @retry_cap = retry_cap
        @pending = []
        @lock = Mutex.new
        @wake = ConditionVariable.new
        @stopping = false
        @history = nil
        @refusals = 0
        @thread = Thread.new { drain }
        @thread.name = "history-recorder"
        @thread.report_on_exception = false
      end

      # Queues one observation (with the tags read, if any); returns at once and never raises.
      def observe(leaf, stats, at, versions: nil)
        entry = { owner: leaf.dig(:spec, :owner), package: leaf.dig(:spec, :package), stats: stats, at: at,
                  versions: versions }
        @lock.synchronize do
          @pending << entry
          if @pending.size > MAX_PENDING
            @pending.shift # the oldest goes: a long outage must not exhaust memory
            @metrics.increment(WRITES, result: "dropped")
          end
          @metrics.set(PENDING, {}, @pending.size)
          @wake.signal
        end
        nil
      end

      def pending
        @lock.synchronize { @pending.size }
      end

      # Stops after the write in progress; what is still queued is reported, not written.
      def stop(timeout: 10)
        @lock.synchronize do
          @stopping = true
          @wake.broadcast
        end
        @thread.join(timeout)
        left = pending
        @logger.warn("history observations not written at shutdown", count: left) if left.positive?
        @history&.close
      end

      private

      def drain
        delay = @retry_base
        while (entry = next_entry)
          if write(entry)
            delay = @retry_base
          else
            pause(delay)
            delay = [delay * 2, @retry_cap].min
          end
        end
      end

      def next_entry
        @lock.synchronize do
          @wake.wait(@lock) while @pending.empty? && !@stopping
          @stopping ? nil : @pending.first
        end
      end

      def write(entry)
        @history ||= @open.call
        @history.record(**entry)
        @lock.synchronize do
          @pending.shift
          @metrics.set(PENDING, {}, @pending.size)
        end
        @metrics.increment(WRITES, result: "ok")
        @metrics.set(LAST_WRITE, {}, Time.now.to_f)
        @refusals = 0
        true
      rescue StandardError => e
        # Any failure, typed or not, must stay on this thread: the Leaf is unaffected.
        failed(entry, e)
      end

      def failed(entry, error)
        package = "#{entry[:owner]}/#{entry[:package]}"
        reset
        @refusals += 1 unless database_away?(error)
        if @refusals >= ATTEMPTS
          reject(entry)
          @logger.error("history observation refused; dropped", package: package, attempts: ATTEMPTS,
                                                                error: "#{error.class}: #{error.message}")
          return true
        end

        @metrics.increment(WRITES, result: "error")
        @logger.warn("history write failed; will retry", package: package, error: "#{error.class}: #{error.message}")
        false
      end

      # Unreachable, read-only or misconfigured: nothing about this observation, so it waits.
      def database_away?(error)
        defined?(StatsTracker::History) &&
          [History::UnavailableError, History::ReadOnlyError, History::ConfigurationError].any? { |k| error.is_a?(k) }
      end

      def reject(entry)
        @refusals = 0
        @lock.synchronize do
          @pending.shift if @pending.first.equal?(entry)
          @metrics.set(PENDING, {}, @pending.size)
        end
        @metrics.increment(WRITES, result: "rejected")
      end

      def reset
        @history&.close
      rescue StandardError
        nil
      ensure
        @history = nil
      end

      def pause(seconds)
        @lock.synchronize { @wake.wait(@lock, seconds) unless @stopping }
      end
    end
  end
end
