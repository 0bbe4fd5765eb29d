# frozen_string_literal: true

require "net/http"
require "json"
require_relative "component"

module StatsTracker
  module Testing
    module Kube
      module Components
        # etcd as envtest runs it: loopback client and peer URLs, a private data dir, no fsync (the
        # data only has to survive a clean restart of the process, not a power cut).
        class Etcd < Component
          def initialize(binary:, data_dir:, client_port:, peer_port:, log_path:, reaper:)
            super(name: "etcd", log_path: log_path, reaper: reaper)
            @binary = binary
            @data_dir = data_dir
            @client_port = client_port
            @peer_port = peer_port
          end

          def url = "http://127.0.0.1:#{@client_port}"

          private

          def peer_url = "http://127.0.0.1:#{@peer_port}"

          def command
            [@binary,
             "--name=default",
             "--data-dir=#{@data_dir}",
             "--listen-client-urls=#{url}",
             "--advertise-client-urls=#{url}",
             "--listen-peer-urls=#{peer_url}",
             "--initial-advertise-peer-urls=#{peer_url}",
             "--initial-cluster=default=#{peer_url}",
             "--unsafe-no-fsync=true",
             "--log-level=warn"]
          end

          def ready?
            probe do
              res = Net::HTTP.get_response(URI("#{url}/health"))
              res.code == "200" && JSON.parse(res.body)["health"] == "true"
            end
          end
        end
      end
    end
  end
end
