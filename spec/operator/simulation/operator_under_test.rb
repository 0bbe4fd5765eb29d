# frozen_string_literal: true

require "stringio"
require "stats_tracker/operator"

module StatsTracker
  module Simulation
    # One operator process, wired as Runtime wires it but on the simulated clock, API server and
    # GitHub: the real work queue, informers (their caches and handlers; the simulation delivers
    # lists and notices instead of their threads), controllers, reconcilers, rate limiter and
    # events. The simulation plays the worker threads, one reconcile at a time.
    class OperatorUnderTest
      attr_reader :queue, :informers, :limiter, :log

      # on_pause: told of each GitHub pause [from, until] (the invariants allow for them).
      # fence: the replica's WriteFence (nil: a lone operator writes freely); identity tags its
      # writes; leading: whether the replica counts itself leader (the invariants tell a write the
      # fence should have stopped from one that left in time and landed late).
      def initialize(server:, github:, clock:, random:, github_rate:, github_burst:, on_pause: ->(_from, _to) {},
                     identity: nil, fence: nil, leading: -> { true })
        @clock = clock
        resources = %w[projects leaves].to_h do |plural|
          [plural, ApiServer::Resource.new(server: server, plural: plural, identity: identity, fence: fence,
                                           leading: leading)]
        end
        @log = StringIO.new
        logger = Operator::Log.new(io: @log, level: :info)
        monotonic = -> { clock.monotonic }
        @queue = Operator::Controller::WorkQueue.new(backoff: StatsTracker::Backoff.new(random: random),
                                                     clock: monotonic)
        @limiter = Operator::Controller::RateLimiter.new(rate: github_rate, burst: github_burst, clock: monotonic)
        metrics = Operator::Controller::Metrics.new.tap { |m| Operator::LeafController::PER_LEAF.each { |n| m.gauge(n, n) } }
        sink = fence ? ApiServer::EventSink.new(fence: fence) : server.events
        events = Operator::Kube::Events.new(api: sink, controller: "sim", instance: "sim", logger: logger,
                                            clock: monotonic)
        world = { parser: Parser.new, acquire: method(:acquire), on_github_response: ->(_status) {},
                  fetcher_for: ->(_object) { github }, clock: -> { clock.wall }, random: random }
        controllers = nil
        stop = Operator::Controller::StopSignal.new
        @informers = %w[projects leaves].to_h do |plural|
          [plural, Operator::Controller::Informer.new(api: resources.fetch(plural), logger: logger, stop: stop,
                                                      handler: ->(*args) { controllers.handler(plural).call(*args) })]
        end
        pause = lambda do |seconds|
          @limiter.pause_for(seconds)
          on_pause.call(clock.now, clock.now + seconds)
        end
        controllers = Operator::Controllers.new(
          apis: { projects: resources.fetch("projects"), leaves: resources.fetch("leaves") },
          stores: { projects: store("projects"), leaves: store("leaves") }, queue: @queue, events: events,
          metrics: metrics, logger: logger, world: world, on_rate_limited: pause
        )
        @controllers = controllers.all
      end

      def store(plural)
        @informers.fetch(plural).store
      end

      # What a worker thread does with one key (Manager#process, minus metrics).
      def reconcile(key)
        @controllers.find { |c| c.handles?(key) }.reconcile(key)
      rescue StandardError => e
        @queue.add_rate_limited(key)
        "raised #{e.class}"
      end

      private

      # As Runtime's: a token now, or the seconds until the object's turn (the worker moves on).
      def acquire(object, listing: false)
        @limiter.take(object.dig(:metadata, :uid), namespace: object.dig(:metadata, :namespace), listing: listing)
      end
    end
  end
end
