# frozen_string_literal: true

require "fileutils"
require "json"
require "net/http"
require "tmpdir"
require "yaml"

module StatsTracker
  module Testing
    # Debian's `prometheus` scraping given targets every second, with given rule files, on a
    # loopback port; its data in a temporary directory; stopped by the PID we spawned.
    class PrometheusServer
      BINARY = "/usr/bin/prometheus"

      def self.available?
        File.executable?(BINARY) && File.executable?("/usr/bin/promtool")
      end

      attr_reader :port

      # jobs: { "job name" => ["127.0.0.1:port", ...] }
      def initialize(jobs:, port:, rule_files: [])
        @dir = Dir.mktmpdir("stats-tracker-prometheus-")
        @port = port
        config = {
          "global" => { "scrape_interval" => "1s", "evaluation_interval" => "1s" },
          "rule_files" => rule_files,
          "scrape_configs" => jobs.map { |name, targets| { "job_name" => name, "static_configs" => [{ "targets" => targets }] } }
        }
        File.write(config_path, YAML.dump(config))
        @log = File.join(@dir, "prometheus.log")
      end

      def config_path
        File.join(@dir, "prometheus.yml")
      end

      def start
        @pid = Process.spawn(BINARY, "--config.file=#{config_path}", "--storage.tsdb.path=#{File.join(@dir, 'data')}",
                             "--web.listen-address=127.0.0.1:#{@port}", out: @log, err: @log)
        deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 120
        until ready?
          raise "prometheus exited: #{File.read(@log)}" if Process.wait(@pid, Process::WNOHANG)
          raise "prometheus not ready in 120 s: #{File.read(@log)}" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

          sleep 0.2
        end
        self
      end

      def stop
        if @pid
          Process.kill("TERM", @pid)
          Process.wait(@pid)
        end
      rescue Errno::ESRCH, Errno::ECHILD
        nil
      ensure
        @pid = nil
        FileUtils.rm_rf(@dir)
      end

      # The result vector of an instant query.
      def query(expr)
        api("/api/v1/query", query: expr).fetch("result")
      end

      def rules
        api("/api/v1/rules").fetch("groups").flat_map { |g| g["rules"] }
      end

      def log
        File.read(@log)
      end

      private

      def ready?
        Net::HTTP.get_response(URI("http://127.0.0.1:#{@port}/-/ready")).code == "200"
      rescue SystemCallError, IOError
        false
      end

      def api(path, **params)
        uri = URI("http://127.0.0.1:#{@port}#{path}")
        uri.query = URI.encode_www_form(params) unless params.empty?
        body = JSON.parse(Net::HTTP.get_response(uri).body)
        raise "prometheus #{path} #{params}: #{body['error']}" unless body["status"] == "success"

        body.fetch("data")
      end
    end
  end
end
