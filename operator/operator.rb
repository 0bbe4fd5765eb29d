# frozen_string_literal: true

# Entry point: bundle exec ruby operator/operator.rb [--help]
# Configuration comes from the environment (see operator/README.md); the few flags below
# override it for local runs.

require "optparse"
require "stats_tracker"
require "stats_tracker/operator"
require "stats_tracker/operator/module_cache"

overrides = {}
OptionParser.new do |opts|
  opts.banner = "Usage: bundle exec ruby operator/operator.rb [options]"
  opts.separator ""
  opts.separator "Environment: KUBECONFIG (else in-cluster service account), WATCH_NAMESPACE (comma-separated,"
  opts.separator "empty = all), WATCH_LABEL_SELECTOR, GITHUB_BASE_URL, GITHUB_TOKEN, METRICS_ADDR (host:port, default :8080),"
  opts.separator "LOG_FORMAT=json|text, LOG_LEVEL, LEADER_ELECT=true, LEASE_NAMESPACE, LEASE_NAME, CONCURRENCY,"
  opts.separator "GITHUB_RATE/GITHUB_BURST (requests per second / burst), STATS_TRACKER_PARSER_COMPONENT (+ _SHA256),"
  opts.separator "STATS_TRACKER_DATABASE_URL (record every observation in the history store), UI_ADDR (host:port of"
  opts.separator "the read-only dashboard over that store), PARSER_OCIREPOSITORY (NAME or NAMESPACE/NAME of a Flux"
  opts.separator "OCIRepository delivering the parser: each new revision is verified, self-tested, then swapped in)."
  opts.separator ""
  opts.on("--metrics-addr ADDR", "host:port for /healthz, /readyz, /metrics (port 0 = ephemeral)") do |v|
    bind, port = StatsTracker::Operator::Config.split_addr(v)
    overrides[:metrics_bind] = bind
    overrides[:metrics_port] = Integer(port)
  end
  opts.on("--leader-elect", "Use a coordination.k8s.io Lease so only one replica reconciles") { overrides[:leader_elect] = true }
  opts.on("--namespace NS", "Watch only these namespaces (comma-separated)") { |v| overrides[:watch_namespaces] = v.split(",") }
  opts.on("--watch-label-selector SELECTOR", "Reconcile only objects matching this label selector (sharding)") do |v|
    overrides[:watch_label_selector] = v
  end
  opts.on("--concurrency N", Integer, "Worker threads") { |v| overrides[:concurrency] = v }
  opts.on("--log-format FORMAT", %w[text json]) { |v| overrides[:log_format] = v }
  opts.on("-h", "--help", "Show this help") do
    puts opts
    exit 0
  end
end.parse!

begin
  config = StatsTracker::Operator::Config.from_env(ENV, overrides)
  # A malformed reference is a configuration error now, not a crash when the follower starts.
  StatsTracker::Operator::ParserSource::Follower.locate(config.parser_oci_repository, default_namespace: "") if
    config.parser_oci_repository
  if config.history_url
    # A malformed URL is a configuration error now; an unreachable database is retried later.
    require "stats_tracker/history"
    StatsTracker::History::Location.check(config.history_url)
  end
rescue ArgumentError, TypeError, StatsTracker::Error => e
  warn "stats-tracker operator: invalid configuration: #{e.message}"
  exit 2
end
logger = StatsTracker::Operator::Log.new(format: config.log_format, level: config.log_level,
                                         fields: { identity: config.identity })
# Before the first parser is built: the extension reads the cache directory when it compiles.
cache = StatsTracker::Operator::ModuleCache.new(env: ENV).prepare
logger.warn("module cache off", reason: cache.off_reason) if cache.off_reason
# The extension refuses a cache under a directory others may change; it may trust one, named here.
logger.info("module cache trusts a shared ancestor", dir: cache.trusted_dir) if cache.trusted_dir
StatsTracker::CacheOffNotice.reporter = ->(reason) { logger.warn("module cache off", reason: reason) }
begin
  parser = StatsTracker::Parser.new(**{ component: config.parser_component, sha256: config.parser_sha256 }.compact)
  stats = StatsTracker::Native.cache_stats
  logger.info("parser loaded", from_cache: stats[:hits].positive? && stats[:misses].zero?,
                               cache_dir: cache.off_reason ? nil : StatsTracker::Native.cache_dir,
                               pool_slots: StatsTracker::Native.pool_slots, **stats)
  connection = StatsTracker::Operator::Kube::Connection.from_environment
rescue StandardError => e
  logger.error("cannot start", error: "#{e.class}: #{e.message}")
  exit 1
end

runtime = StatsTracker::Operator::Runtime.new(config: config, connection: connection, parser: parser, logger: logger)
%w[TERM INT].each do |signal|
  # Mutexes cannot be taken in a trap handler; a short-lived thread does the stopping.
  Signal.trap(signal) { Thread.new { runtime.stop } }
end
logger.info("starting", namespaces: config.watch_namespaces.empty? ? "*" : config.watch_namespaces.join(","),
                        github: config.github_base_url, leader_elect: config.leader_elect,
                        metrics: "#{config.metrics_bind}:#{config.metrics_port}")
result = runtime.run
connection.close
exit(result == :lost ? 1 : 0)
