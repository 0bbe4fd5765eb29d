# frozen_string_literal: true

require "net/http"
require "rbconfig"
require "fileutils"
require_relative "../../testing/kube/free_port"

module Bench
  # The operator as users run it (`ruby operator/operator.rb`, its own process) against a bench's
  # cluster and page server: started with the bench defaults plus `env`, its /metrics on a free
  # local port, stopped with TERM. Shared by bench/operator.rb and bench/soak.rb.
  class OperatorProcess
    ROOT = File.expand_path("../..", __dir__)

    attr_reader :pid, :port, :log

    def initialize(kubeconfig:, namespace:, github_base_url:, log:, env: {})
      @port = StatsTracker::Testing::Kube::FreePort.pick
      @log = log
      # GITHUB_RATE: the limiter protects github.com; here it would only measure itself.
      @env = { "KUBECONFIG" => kubeconfig, "WATCH_NAMESPACE" => namespace, "GITHUB_BASE_URL" => github_base_url,
               "METRICS_ADDR" => "127.0.0.1:#{@port}", "GITHUB_RATE" => "1000", "GITHUB_BURST" => "100",
               "LOG_LEVEL" => "warn" }.merge(env).compact
    end

    def start
      FileUtils.mkdir_p(File.dirname(@log))
      @pid = Process.spawn(@env, RbConfig.ruby, File.join(ROOT, "operator", "operator.rb"), out: @log, err: @log)
      self
    end

    # Raises when the process has exited (it never should during a bench).
    def check!
      raise "operator exited; see #{@log}" if @pid && (@exited ||= !Process.wait(@pid, Process::WNOHANG).nil?)
    end

    def http_ok?(path)
      Net::HTTP.get_response(URI("http://127.0.0.1:#{@port}#{path}")).is_a?(Net::HTTPSuccess)
    rescue SystemCallError, IOError
      false
    end

    # /metrics as { "name{labels}" => value }; empty while the server does not answer.
    def metrics
      text = Net::HTTP.get(URI("http://127.0.0.1:#{@port}/metrics"))
      text.each_line.reject { |l| l.start_with?("#") }.to_h { |l| [l.split.first, l.split.last.to_f] }
    rescue SystemCallError, IOError
      {}
    end

    def stop
      return unless @pid && !@exited

      Process.kill("TERM", @pid)
      Process.wait(@pid)
    rescue Errno::ESRCH, Errno::ECHILD
      nil
    end
  end
end
