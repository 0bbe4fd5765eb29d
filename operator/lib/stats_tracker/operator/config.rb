# frozen_string_literal: true

require "socket"
require "securerandom"

module StatsTracker
  module Operator
    # Settings from the environment (12-factor; flags are parsed into the same keys by operator.rb).
    Config = Struct.new(
      :watch_namespaces, :github_base_url, :github_token, :metrics_bind, :metrics_port, :log_format, :log_level,
      :leader_elect, :lease_namespace, :lease_name, :identity, :concurrency, :parser_component, :parser_sha256,
      :github_rate, :github_burst, :field_manager, :lease_duration, :renew_deadline, :retry_period,
      :shutdown_timeout, :watch_timeout, :history_url, :ui_addr, :watch_label_selector,
      :parser_oci_repository, :memory_limit, :malloc_trim_interval,
      keyword_init: true
    ) do
      def self.from_env(env = ENV, overrides = {})
        bind, port = split_addr(env.fetch("METRICS_ADDR", ":8080"))
        new(
          watch_namespaces: env.fetch("WATCH_NAMESPACE", "").split(",").map(&:strip).reject(&:empty?),
          watch_label_selector: env["WATCH_LABEL_SELECTOR"].to_s.strip.then { |s| s.empty? ? nil : s },
          github_base_url: env.fetch("GITHUB_BASE_URL", "https://github.com"),
          github_token: env["GITHUB_TOKEN"],
          metrics_bind: bind, metrics_port: Integer(env.fetch("METRICS_PORT", port)),
          log_format: env.fetch("LOG_FORMAT", "text"), log_level: env.fetch("LOG_LEVEL", "info"),
          leader_elect: %w[1 true yes].include?(env.fetch("LEADER_ELECT", "false").downcase),
          lease_namespace: env["LEASE_NAMESPACE"], lease_name: env.fetch("LEASE_NAME", "stats-tracker-operator"),
          identity: env.fetch("POD_NAME") { "#{Socket.gethostname}_#{SecureRandom.hex(4)}" },
          concurrency: Integer(env.fetch("CONCURRENCY", "4")),
          parser_component: env["STATS_TRACKER_PARSER_COMPONENT"], parser_sha256: env["STATS_TRACKER_PARSER_COMPONENT_SHA256"],
          github_rate: Float(env.fetch("GITHUB_RATE", "1")), github_burst: Integer(env.fetch("GITHUB_BURST", "5")),
          field_manager: env.fetch("FIELD_MANAGER", "stats-tracker-operator"),
          lease_duration: Float(env.fetch("LEASE_DURATION", "15")), renew_deadline: Float(env.fetch("RENEW_DEADLINE", "10")),
          retry_period: Float(env.fetch("RETRY_PERIOD", "2")), shutdown_timeout: Float(env.fetch("SHUTDOWN_TIMEOUT", "25")),
          watch_timeout: Integer(env.fetch("WATCH_TIMEOUT", "300")),
          history_url: env["STATS_TRACKER_DATABASE_URL"].to_s.empty? ? nil : env["STATS_TRACKER_DATABASE_URL"],
          ui_addr: env["UI_ADDR"].to_s.empty? ? nil : env["UI_ADDR"],
          parser_oci_repository: env["PARSER_OCIREPOSITORY"].to_s.strip.then { |s| s.empty? ? nil : s },
          memory_limit: memory_limit(env["MEMORY_LIMIT"]),
          malloc_trim_interval: Float(env.fetch("MALLOC_TRIM_INTERVAL", "60"))
        ).tap { |c| overrides.each { |k, v| c[k] = v } }
      end

      # MEMORY_LIMIT: the container's memory limit in bytes (the Downward API's limits.memory);
      # unset, empty or 0 (no limit) exports no limit metric.
      def self.memory_limit(value)
        text = value.to_s.strip
        return nil if text.empty?

        bytes = Integer(text, 10, exception: false)
        raise ArgumentError, "MEMORY_LIMIT must be a number of bytes, got #{value.inspect}" if bytes.nil? || bytes.negative?

        bytes.zero? ? nil : bytes
      end

      def self.split_addr(addr)
        host, _, port = addr.rpartition(":")
        [host.empty? ? "0.0.0.0" : host.delete("[]"), port.empty? ? "8080" : port]
      end
    end
  end
end
