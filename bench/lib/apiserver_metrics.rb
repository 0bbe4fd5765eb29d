# frozen_string_literal: true

module Bench
  # apiserver_request_total as the API server itself reports it on /metrics: independent of
  # how the operator counts (or fails to count) its own requests.
  class ApiserverMetrics
    WRITE_VERBS = %w[POST PUT PATCH APPLY DELETE DELETECOLLECTION].freeze
    # A watch is one long-lived request, counted when it ends; not a per-Leaf cost.
    LONG_RUNNING = %w[WATCH CONNECT].freeze
    LINE = /\Aapiserver_request_total\{(?<labels>[^}]*)\}\s+(?<value>\S+)/
    LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/

    # { [verb, resource, subresource] => count }
    Snapshot = Struct.new(:counts) do
      def writes(resources)
        sum(resources) { |verb| WRITE_VERBS.include?(verb) }
      end

      def reads(resources)
        sum(resources) { |verb| !WRITE_VERBS.include?(verb) && !LONG_RUNNING.include?(verb) }
      end

      def diff(earlier, resources)
        counts.each_with_object({}) do |(key, n), out|
          next unless resources.include?(key[1]) && !LONG_RUNNING.include?(key[0])

          delta = n - earlier.counts.fetch(key, 0)
          out[key] = delta if delta.positive?
        end
      end

      private

      def sum(resources)
        counts.sum { |(verb, resource, _), n| resources.include?(resource) && yield(verb) ? n : 0 }
      end
    end

    def initialize(connection)
      @connection = connection
    end

    def snapshot
      res = @connection.get("/metrics")
      raise "GET /metrics: HTTP #{res.status}" unless res.success?

      counts = Hash.new(0)
      res.body.each_line do |line|
        match = LINE.match(line) or next
        labels = match[:labels].scan(LABEL).to_h
        counts[[labels["verb"], labels["resource"], labels["subresource"].to_s]] += Float(match[:value]).to_i
      end
      Snapshot.new(counts)
    end
  end
end
