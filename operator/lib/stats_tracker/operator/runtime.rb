# frozen_string_literal: true

require_relative "log"
require_relative "config"
require_relative "github_tokens"
require_relative "controllers"
require_relative "controller/manager"
require_relative "controller/metrics"
require_relative "controller/rate_limiter"
require_relative "controller/work_queue"
require "stats_tracker/backoff"
require_relative "controller/leader_election"
require_relative "kube/connection"
require_relative "memory_trimmer"
require_relative "kube/resource_api"
require_relative "kube/events"
require_relative "history_recorder"
require_relative "process_memory"
require_relative "parser_source/current_parser"
require_relative "parser_source/follower"
require_relative "parser_source/artifact_download"
require_relative "parser_source/candidate_check"
require_relative "parser_source/reparse"

module StatsTracker
  module Operator
    # Wires the operator from a Config, a Kubernetes connection and a parser: the composition
    # root, kept apart from operator.rb so specs can run the real thing in-process.
    class Runtime
      GROUP = "stats-tracker.dev"
      VERSION = "v1alpha1"

      CACHED_OBJECTS = "stats_tracker_cached_objects"
      # The name Prometheus client libraries use, so existing dashboards and alerts apply.
      RESIDENT_MEMORY = "process_resident_memory_bytes"
      KUBE_CONNECTIONS = "stats_tracker_kube_connections_opened_total"
      MEMORY_LIMIT = "stats_tracker_memory_limit_bytes"

      attr_reader :manager, :metrics, :config, :logger, :parser

      # watch_stream: opens each informer watch (Informer's seam; a WatchStream by default).
      def initialize(config:, connection:, parser:, logger: nil, fetcher_factory: nil, watch_stream: nil)
        @config = config
        @connection = connection
        @logger = logger || Log.new(format: config.log_format, level: config.log_level)
        @metrics = build_metrics
        @limiter = Controller::RateLimiter.new(rate: config.github_rate, burst: config.github_burst)
        @fetcher_factory = fetcher_factory || method(:default_fetcher)
        @watch_stream = watch_stream
        @parser = if parser.is_a?(ParserSource::CurrentParser)
                    parser
                  else
                    ParserSource::CurrentParser.initial(parser, component: config.parser_component)
                  end
        @stop = Controller::StopSignal.new
        @recorder = build_recorder
        @events = Kube::Events.new(api: api(kind: "Event", plural: "events", group: "events.k8s.io"),
                                   controller: "#{GROUP}/operator", instance: @config.identity, logger: @logger)
        @manager = build_manager
        @follower = build_follower
      end

      def run
        ui = start_ui
        announce_parser
        @follower&.start
        MemoryTrimmer.new(interval: @config.malloc_trim_interval, stop: @stop, metrics: @metrics).start
        @manager.run
      ensure
        @follower&.stop
        ui&.stop
        @recorder&.stop
      end

      def stop
        @manager.stop
        @follower&.stop
      end

      def kube_requests(verb: nil, resource: nil)
        @kube_requests.sum { |(v, r), n| (verb.nil? || v == verb) && (resource.nil? || r == resource) ? n : 0 }
      end

      private

      def build_metrics
        metrics = Controller::Metrics.new
        # Downloads only grow and come from another system: a counter set to GitHub's number.
        metrics.counter(LeafController::DOWNLOADS, "Total downloads of a GHCR package, as last read from its page")
        metrics.gauge(LeafController::LAST_SUCCESS, "Unix time a Leaf's package page was last read successfully")
        metrics.gauge(LeafController::READY, "1 when the Leaf's Ready condition is True, else 0")
        metrics.gauge(LeafController::INTERVAL, "The Leaf's spec.interval in seconds: its count is stale after a few")
        metrics.gauge("stats_tracker_workqueue_depth", "Keys ready to be reconciled")
        metrics.gauge("stats_tracker_workqueue_scheduled", "Keys waiting for a delayed requeue")
        metrics.counter("stats_tracker_github_requests_total", "Requests to GitHub by HTTP status")
        metrics.counter("stats_tracker_kube_requests_total", "Requests to the Kubernetes API by verb and resource")
        metrics.gauge(CACHED_OBJECTS, "Objects held in the informer caches, by resource")
        metrics.gauge(RESIDENT_MEMORY, "Resident memory of the operator process in bytes")
        metrics.gauge(MEMORY_LIMIT, "The container's memory limit in bytes (MEMORY_LIMIT), to compare the RSS with")
        metrics.counter(KUBE_CONNECTIONS, "Connections opened to the Kubernetes API (kept alive per thread)")
        ParserSource::Follower.register_metrics(metrics)
        MemoryTrimmer.register_metrics(metrics)
        metrics
      end

      # Writes go through only while this replica may reconcile: always without leader election,
      # else while the lease is held and cannot have expired for anyone else.
      def api(kind:, plural:, group: nil, version: "v1", timeouts: nil, fenced: true)
        @kube_requests ||= Hash.new(0)
        @kube_lock ||= Mutex.new
        fence = fenced && @config.leader_elect ? -> { @election&.leader? } : nil
        Kube::ResourceApi.new(connection: @connection, kind: kind, plural: plural, group: group, version: version,
                              field_manager: @config.field_manager, timeouts: timeouts, fence: fence,
                              on_request: lambda { |verb, res|
                                @kube_lock.synchronize { @kube_requests[[verb, res]] += 1 }
                                @metrics.increment("stats_tracker_kube_requests_total", verb: verb.to_s, resource: res)
                              })
      end

      def build_manager
        projects = api(kind: "Project", plural: "projects", group: GROUP, version: VERSION)
        leaves = api(kind: "Leaf", plural: "leaves", group: GROUP, version: VERSION)
        events = @events
        queue = Controller::WorkQueue.new(backoff: StatsTracker::Backoff.new(base: 1.0, cap: 300.0))
        tokens = GithubTokens.new(secrets_api: api(kind: "Secret", plural: "secrets"), default_token: @config.github_token,
                                  build_fetcher: @fetcher_factory, logger: @logger)
        world = { parser: @parser, acquire: method(:acquire_github), on_github_response: method(:count_github),
                  fetcher_for: tokens.method(:fetcher_for) }
        # The informers' handlers are made before the controllers they call, which need the
        # informers' caches.
        controllers = nil
        manager = Controller::Manager.new(
          sources: [[projects, ->(*args) { controllers.handler("projects").call(*args) }],
                    [leaves, ->(*args) { controllers.handler("leaves").call(*args) }]],
          controllers: [], queue: queue, logger: @logger, metrics: @metrics,
          namespaces: @config.watch_namespaces, concurrency: @config.concurrency,
          leader_election: leader_election, health: health_options, shutdown_timeout: @config.shutdown_timeout,
          stop_signal: @stop,
          informer_options: informer_options
        )
        controllers = Controllers.new(
          apis: { projects: projects, leaves: leaves },
          stores: { projects: MultiStore.of(manager.informers, "projects"), leaves: MultiStore.of(manager.informers, "leaves") },
          queue: queue, events: events, metrics: @metrics, logger: @logger, world: world, leaf_world: leaf_world,
          on_rate_limited: ->(seconds) { @limiter.pause_for(seconds) }
        )
        manager.controllers.push(*controllers.all)
        @metrics.before_render do
          @metrics.set("stats_tracker_workqueue_depth", {}, queue.depth)
          @metrics.set("stats_tracker_workqueue_scheduled", {}, queue.scheduled)
          record_memory(manager.informers)
          @metrics.set(KUBE_CONNECTIONS, {}, @connection.connections_opened)
        end
        manager
      end

      def informer_options
        options = { watch_timeout: @config.watch_timeout, label_selector: @config.watch_label_selector }
        @watch_stream ? options.merge(watch_stream: @watch_stream) : options
      end

      # What a memory alert needs: how many objects are cached (memory grows with them) and
      # the RSS itself, to compare with the Pod's limit.
      def record_memory(informers)
        informers.group_by(&:plural).each do |plural, list|
          @metrics.set(CACHED_OBJECTS, { resource: plural }, list.sum { |i| i.store.size })
        end
        rss = ProcessMemory.rss_bytes
        @metrics.set(RESIDENT_MEMORY, {}, rss) if rss
        @metrics.set(MEMORY_LIMIT, {}, @config.memory_limit) if @config.memory_limit
      end

      # PARSER_OCIREPOSITORY: follow a Flux OCIRepository that delivers the parser. Both replicas
      # follow it (a standby that takes over already has the parser); Leafs are re-queued only
      # where informers run, on the leader.
      def build_follower
        return nil unless @config.parser_oci_repository

        namespace, name = ParserSource::Follower.locate(@config.parser_oci_repository,
                                                        default_namespace: @connection.default_namespace || "default")
        ParserSource::Follower.new(
          api: api(kind: "OCIRepository", plural: "ocirepositories", group: "source.toolkit.fluxcd.io", fenced: false),
          namespace: namespace, name: name, current: @parser, check: ParserSource::CandidateCheck.new,
          download: ParserSource::ArtifactDownload.new, events: @events, metrics: @metrics,
          logger: @logger.with(component: "parser"), on_swap: method(:reparse_failed_leaves)
        )
      end

      def announce_parser
        loaded = @parser.loaded
        ParserSource::Follower.report(@metrics, loaded)
        @logger.info("parser in use", source: loaded.source, revision: loaded.revision, digest: loaded.digest,
                                      loaded_at: loaded.loaded_at.utc.iso8601, follows: @follower&.source)
      end

      def reparse_failed_leaves
        keys = ParserSource::Reparse.call(leaves: MultiStore.of(@manager.informers, "leaves").all, queue: @manager.queue)
        @logger.info("re-reading Leafs the previous parser rejected", count: keys.size) unless keys.empty?
      end

      # The history store is optional: with STATS_TRACKER_DATABASE_URL every page read is also
      # recorded there, off the reconcile path.
      def build_recorder
        return nil unless @config.history_url

        HistoryRecorder.register_metrics(@metrics)
        HistoryRecorder.new(open: method(:open_history), metrics: @metrics, logger: @logger.with(component: "history"))
      end

      # Versions pages take only spare GitHub tokens; a 429 on one pauses every request.
      def leaf_world
        world = { acquire_spare: @limiter.method(:try_acquire_spare), on_rate_limited: ->(s) { @limiter.pause_for(s) } }
        @recorder ? world.merge(on_observation: @recorder.method(:observe)) : world
      end

      def open_history
        require "stats_tracker/history"
        StatsTracker::History.open(url: @config.history_url)
      end

      # UI_ADDR serves the read-only dashboard over the same store. A dashboard that cannot
      # start is logged; it never stops the operator.
      def start_ui
        return nil unless @config.ui_addr && @config.history_url

        require "stats_tracker/dashboard"
        server = StatsTracker::Dashboard::Server.new(history: open_history, listen: @config.ui_addr).start
        @logger.info("dashboard serving", url: server.url)
        server
      rescue StandardError => e
        @logger.error("dashboard not started", error: "#{e.class}: #{e.message}")
        nil
      end

      def leader_election
        return nil unless @config.leader_elect

        namespace = @config.lease_namespace || @connection.default_namespace || "default"
        leases = api(kind: "Lease", plural: "leases", group: "coordination.k8s.io", fenced: false,
                     timeouts: Controller::LeaderElection.http_timeouts(@config.renew_deadline))
        @election = Controller::LeaderElection.new(
          api: leases, namespace: namespace,
          name: @config.lease_name, identity: @config.identity, logger: @logger, stop: @stop,
          lease_duration: @config.lease_duration, renew_deadline: @config.renew_deadline, retry_period: @config.retry_period
        )
      end

      def health_options
        return nil if @config.metrics_port.nil? || @config.metrics_port.negative?

        { bind: @config.metrics_bind, port: @config.metrics_port }
      end

      # Never waits: an object without a token is requeued for its turn. Once stopping, no turn
      # will come in this process.
      def acquire_github(object, listing: false)
        return Float::INFINITY if @manager.stop_signal.stopped?

        @limiter.take(object.dig(:metadata, :uid), namespace: object.dig(:metadata, :namespace), listing: listing)
      end

      def count_github(status)
        @metrics.increment("stats_tracker_github_requests_total", status: status.to_s)
      end

      def default_fetcher(token)
        require "stats_tracker/fetcher"
        StatsTracker::Fetcher.new(base_url: @config.github_base_url, token: token, max_retries: 0)
      end
    end

    # The caches of one kind, one per watched namespace (or a single all-namespaces one).
    class MultiStore
      def self.of(informers, plural)
        new(informers.select { |i| i.plural == plural }.to_h { |i| [i.namespace, i.store] })
      end

      def initialize(stores_by_namespace)
        @stores = stores_by_namespace
      end

      def get(key)
        store_for(key.split("/", 2).first)&.get(key)
      end

      def all
        @stores.values.flat_map(&:all)
      end

      def put(object)
        store_for(object.dig(:metadata, :namespace))&.put(object)
      end

      private

      def store_for(namespace)
        @stores.fetch(namespace) { @stores[nil] }
      end
    end
  end
end
