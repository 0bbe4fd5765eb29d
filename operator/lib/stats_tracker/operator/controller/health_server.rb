# frozen_string_literal: true

require "webrick"
require "logger"

module StatsTracker
  module Operator
    module Controller
      # /healthz (the process and its informers are alive), /readyz (informers synced, so a
      # reconcile sees the whole cluster state) and /metrics (Prometheus text).
      class HealthServer
        def initialize(bind:, port:, healthy:, ready:, metrics:)
          @server = WEBrick::HTTPServer.new(BindAddress: bind, Port: port, AccessLog: [],
                                            Logger: WEBrick::Log.new(File::NULL))
          mount("/healthz") { healthy.call ? [200, "ok\n"] : [503, "unhealthy\n"] }
          mount("/readyz") { ready.call ? [200, "ok\n"] : [503, "not ready\n"] }
          mount("/metrics", "text/plain; version=0.0.4; charset=utf-8") { [200, metrics.render] }
        end

        def port
          @server.config[:Port]
        end

        def start
          @thread = Thread.new { @server.start }
          self
        end

        def stop
          @server.shutdown
          @thread&.join(5)
        end

        private

        def mount(path, type = "text/plain; charset=utf-8")
          @server.mount_proc(path) do |_req, res|
            status, body = yield
            res.status = status
            res["Content-Type"] = type
            res.body = body
          end
        end
      end
    end
  end
end
