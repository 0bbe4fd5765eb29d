# frozen_string_literal: true

require "socket"

module StatsTracker
  module Testing
    module Kube
      # Ephemeral loopback ports, as envtest picks them: bind :0, read the port, close. The binaries
      # need the number on their command line, so the tiny race with another process is accepted;
      # ports are remembered for the cluster's life so a restart listens where clients already point.
      module FreePort
        def self.pick(host: "127.0.0.1")
          server = TCPServer.new(host, 0)
          server.addr[1]
        ensure
          server&.close
        end
      end
    end
  end
end
