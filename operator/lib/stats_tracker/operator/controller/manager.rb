# frozen_string_literal: true

require_relative "stop_signal"
require_relative "work_queue"
require_relative "informer"
require_relative "leader_election"
require_relative "health_server"
require_relative "../kube/errors"

module StatsTracker
  module Operator
    module Controller
      # Runs the controllers: informers feeding one work queue, a bounded pool of worker threads,
      # optional Lease leader election, the health/metrics server and graceful shutdown (stop
      # intake, let in-flight reconciles finish within a deadline, release the lease).
      # It knows nothing about Projects or Leafs beyond the handlers it is given.
      class Manager
        attr_reader :stop_signal, :queue, :informers, :health, :controllers, :state

        # The families the Manager itself writes; it registers them, so it works in any registry.
        def self.register_metrics(metrics)
          metrics.counter("stats_tracker_reconcile_total", "Reconciles by controller and result")
          metrics.counter("stats_tracker_reconcile_errors_total", "Reconciles that failed, by controller")
          metrics.histogram("stats_tracker_reconcile_duration_seconds", "Time spent in one reconcile")
          metrics.counter("stats_tracker_watch_events_total", "Watch notices by resource and type")
          metrics.gauge("stats_tracker_leader", "1 while this replica is the leader")
          # A standby reports 0 from the start, so "no replica leads" is a query, not an absence.
          metrics.set("stats_tracker_leader", {}, 0)
        end

        # controllers: objects with #handles?(key) and #reconcile(key) -> Symbol, key an ObjectKey
        # sources: [[api, handler]] - one informer per source and namespace
        def initialize(sources:, controllers:, queue:, logger:, metrics:, namespaces: [nil], concurrency: 4,
                       leader_election: nil, health: nil, shutdown_timeout: 25, stop_signal: StopSignal.new,
                       informer_options: {})
          @controllers = controllers
          @queue = queue
          @logger = logger
          @metrics = metrics
          self.class.register_metrics(metrics)
          @concurrency = concurrency
          @leader_election = leader_election
          @health_options = health
          @shutdown_timeout = shutdown_timeout
          @stop_signal = stop_signal
          @informers = sources.product(namespaces.empty? ? [nil] : namespaces).map do |(api, handler), ns|
            Informer.new(api: api, handler: handler, namespace: ns, logger: logger, stop: stop_signal,
                         on_watch_event: lambda { |type|
                           metrics.increment("stats_tracker_watch_events_total", resource: api.plural, type: type)
                         },
                         **informer_options)
          end
          @workers = []
          @state = :starting
        end

        # Live while every informer and worker thread it started is still running (a thread
        # that died of an unexpected error would otherwise leave a silently stuck operator).
        def healthy?
          return true unless @state == :running

          (@informers.map(&:thread) + @workers).compact.all?(&:alive?)
        end

        def ready?
          %i[standby running].include?(@state) && (@state == :standby || @informers.all?(&:synced?))
        end

        # Blocks until stopped. Returns :stopped, or :lost when leadership was lost (the caller
        # should exit so that a restart starts from a clean state, as controller-runtime does).
        def run
          start_health
          @state = :standby
          return finish(:stopped) if @leader_election && !@leader_election.acquire

          @metrics.set("stats_tracker_leader", {}, 1)
          @state = :running
          @informers.each(&:start)
          @workers = Array.new(@concurrency) { |i| start_worker(i) }
          result = @leader_election ? @leader_election.hold : (@stop_signal.wait(Float::INFINITY) && :stopped)
          finish(result)
        end

        def stop
          @logger.info("shutdown requested") unless @stop_signal.stopped?
          @stop_signal.stop!
          @queue.shutdown
          @informers.each(&:stop)
        end

        private

        def start_health
          return unless @health_options

          @health = HealthServer.new(**@health_options, healthy: -> { healthy? }, ready: -> { ready? },
                                                        metrics: @metrics).start
        end

        def finish(result)
          @state = :stopping
          stop
          drain
          @metrics.set("stats_tracker_leader", {}, 0)
          @leader_election&.release
          @health&.stop
          @state = :stopped
          @logger.info("stopped", reason: result)
          result
        end

        def drain
          deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + @shutdown_timeout
          (@workers + @informers.map(&:thread)).compact.each do |t|
            left = [deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC), 0.1].max
            next if t.join(left)

            @logger.warn("still running at shutdown deadline", thread: t.name, at: t.backtrace&.first(3)&.join(" | "))
          end
        end

        def start_worker(index)
          Thread.new do
            Thread.current.name = "worker-#{index}"
            while (key = @queue.get)
              break @queue.done(key) if @stop_signal.stopped?

              process(key)
            end
          end
        end

        def process(key)
          controller = @controllers.find { |c| c.handles?(key) }
          name = key.kind.to_s
          started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
          result = controller.reconcile(key)
          @metrics.increment("stats_tracker_reconcile_total", controller: name, result: result.to_s)
          @metrics.increment("stats_tracker_reconcile_errors_total", controller: name) if result == :error
        rescue StandardError => e
          delay = @queue.add_rate_limited(key)
          @metrics.increment("stats_tracker_reconcile_total", controller: name, result: "error")
          @metrics.increment("stats_tracker_reconcile_errors_total", controller: name)
          @logger.error("reconcile raised", key: key.to_s, error: Kube::Errors.describe(e), retry_in: delay.round(2),
                                            at: e.backtrace&.first)
        ensure
          @metrics.observe("stats_tracker_reconcile_duration_seconds", { controller: name },
                           Process.clock_gettime(Process::CLOCK_MONOTONIC) - started)
          @queue.done(key)
        end
      end
    end
  end
end
