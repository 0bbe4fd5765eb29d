# frozen_string_literal: true

require "net/http"
require "openssl"
require_relative "../managed_process"
require_relative "../wait"

module StatsTracker
  module Testing
    module Kube
      module Components
        # Shared start/stop for a control-plane binary: spawn it, then poll its own health endpoint,
        # failing at once (with the log's tail) if the process dies instead of becoming ready.
        class Component
          attr_reader :process

          def initialize(name:, log_path:, reaper:)
            @name = name
            @log_path = log_path
            @reaper = reaper
            @process = nil
          end

          def start(timeout:)
            @process = ManagedProcess.new(name: @name, command: command, log_path: @log_path, reaper: @reaper)
            @process.start
            Wait.until("#{@name} to become ready", timeout: timeout, interval: 0.1,
                                                   diagnostics: -> { "#{@name} log tail:\n#{@process.log_tail}" }) do
              unless @process.running?
                raise ProcessFailedError,
                      "#{@name} exited during start (#{@process.exit_description}):\n#{@process.log_tail}"
              end
              ready?
            end
            self
          end

          def stop(timeout: stop_grace)
            @process&.stop(timeout: timeout)
            self
          end

          # Seconds between TERM and KILL.
          def stop_grace = 20

          def running? = !@process.nil? && @process.running?

          def pid = @process&.pid

          private

          def command = raise(NotImplementedError)

          def ready? = raise(NotImplementedError)

          # Connection refused and TLS handshakes against a half-started server are the normal
          # "not yet" answers while polling.
          def probe
            yield
          rescue SystemCallError, IOError, OpenSSL::SSL::SSLError, Net::OpenTimeout, Net::ReadTimeout
            false
          end
        end
      end
    end
  end
end
