# frozen_string_literal: true

module StatsTracker
  module Testing
    module Kube
      # Stops a process group by its leader's PID, whether or not this Ruby process started it
      # (`bin/kube-local down` and `bin/e2e node down` stop what `up` left running): TERM, wait,
      # KILL what is left.
      module ProcessGroup
        module_function

        def alive?(pid)
          begin
            return false if Process.wait(pid, Process::WNOHANG)
          rescue Errno::ECHILD
            nil # not our child: ask the kernel below
          end
          Process.kill(0, -pid)
          true
        rescue Errno::ESRCH
          false
        rescue Errno::EPERM
          true
        end

        def stop(pid, grace: 20)
          return unless pid

          signal(pid, "TERM")
          deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + grace
          sleep 0.1 while alive?(pid) && Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline
          signal(pid, "KILL")
          sleep 0.1 while alive?(pid) && Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline + 5
        end

        def signal(pid, sig)
          Process.kill(sig, -pid)
        rescue Errno::ESRCH
          nil
        end
      end
    end
  end
end
