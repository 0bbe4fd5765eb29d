# frozen_string_literal: true

module StatsTracker
  module Testing
    module Kube
      class ProcessFailedError < StandardError; end

      # One control-plane binary run as the leader of its own process group, output appended to a log.
      # Its own group means the terminal's Ctrl-C reaches only the Ruby process (which then stops the
      # components in order) and a stop signal reaches every child the binary may have forked.
      class ManagedProcess
        attr_reader :name, :log_path, :pid

        def initialize(name:, command:, log_path:, reaper: nil)
          @name = name
          @command = command
          @log_path = log_path
          @reaper = reaper
          @pid = nil
          @status = nil
        end

        def start
          raise ProcessFailedError, "#{name} already running (pid #{pid})" if running?

          log = File.open(log_path, "a")
          log.puts("=== #{Time.now.utc} starting: #{@command.join(" ")}")
          log.flush
          @status = nil
          @pid = Process.spawn(*@command, pgroup: true, in: File::NULL, out: log, err: log)
          @reaper&.watch(@pid)
          self
        ensure
          log&.close
        end

        def running?
          return false unless @pid
          return false if @status

          reaped = Process.wait2(@pid, Process::WNOHANG)
          @status = reaped[1] if reaped
          @status.nil?
        rescue Errno::ECHILD
          @status = :gone
          false
        end

        def exit_description
          return "still running" if running?

          @status.respond_to?(:exitstatus) ? @status.inspect : @status.to_s
        end

        # TERM first so etcd and the apiserver flush and release their ports, KILL if they hang.
        def stop(timeout: 20)
          return self unless @pid

          signal_group("TERM") if running?
          deadline = monotonic + timeout
          sleep 0.05 while running? && monotonic < deadline
          if running?
            signal_group("KILL")
            reap
          end
          # Children that ignored TERM would keep the group alive; the group must be empty afterwards.
          signal_group("KILL")
          @reaper&.forget(@pid)
          @pid = nil
          self
        end

        def log_tail(lines: 40)
          return "" unless File.exist?(log_path)

          File.readlines(log_path).last(lines).join
        end

        private

        def reap
          Process.wait(@pid)
        rescue Errno::ECHILD
          nil
        end

        def signal_group(signal)
          Process.kill(signal, -@pid)
        rescue Errno::ESRCH, Errno::EPERM
          nil
        end

        def monotonic = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      end
    end
  end
end
