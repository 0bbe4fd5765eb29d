# frozen_string_literal: true

require "rbconfig"

module StatsTracker
  module Testing
    module Kube
      # A tiny watchdog process that kills the control plane's process groups if this Ruby process
      # dies without running at_exit: RSpec's second Ctrl-C calls exit!, and SIGKILL runs nothing.
      # It learns the groups through a pipe and acts on EOF, which the kernel delivers however the
      # parent ends; a clean stop unregisters every group first, so EOF then has nothing to kill.
      class Reaper
        # Stops groups newest first (controller manager, apiserver, etcd), as a clean stop would, then
        # removes the work dirs the dead parent can no longer clean up.
        SCRIPT = <<~RUBY
          Signal.trap("INT", "IGNORE")
          Signal.trap("HUP", "IGNORE")
          groups = []
          dirs = []
          $stdin.each_line do |line|
            word, arg = line.chomp.split(" ", 2)
            case word
            when "watch" then groups << Integer(arg)
            when "forget" then groups.delete(Integer(arg))
            when "dir" then dirs << arg
            when "keep" then dirs.delete(arg)
            end
          end
          alive = ->(g) { begin; Process.kill(0, -g); true; rescue StandardError; false; end }
          now = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }
          groups.reverse_each do |g|
            begin; Process.kill("TERM", -g); rescue StandardError; next; end
            deadline = now.call + 5
            sleep 0.1 while alive.call(g) && now.call < deadline
            begin; Process.kill("KILL", -g); rescue StandardError; nil; end
          end
          require "fileutils"
          dirs.each { |d| FileUtils.rm_rf(d) }
        RUBY

        def initialize
          reader, @writer = IO.pipe
          @pid = Process.spawn(RbConfig.ruby, "--disable-gems", "-e", SCRIPT,
                               pgroup: true, in: reader, out: File::NULL, err: File::NULL)
          reader.close
          @writer.sync = true
          Process.detach(@pid)
        end

        def watch(pgid) = send_line("watch #{pgid}")

        def forget(pgid) = send_line("forget #{pgid}")

        def remove_on_abort(dir) = send_line("dir #{dir}")

        def close
          @writer.close unless @writer.closed?
        end

        private

        def send_line(line)
          @writer.puts(line) unless @writer.closed?
        rescue Errno::EPIPE
          nil
        end
      end
    end
  end
end
