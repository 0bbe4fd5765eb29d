# frozen_string_literal: true

module StatsTracker
  module Operator
    module Controller
      # A latch threads sleep on, so shutdown interrupts every backoff wait at once.
      class StopSignal
        def initialize
          @lock = Mutex.new
          @cond = ConditionVariable.new
          @stopped = false
        end

        def stop!
          @lock.synchronize do
            @stopped = true
            @cond.broadcast
          end
        end

        def stopped?
          @lock.synchronize { @stopped }
        end

        # Sleeps up to `seconds`; returns true if stopped meanwhile.
        def wait(seconds = nil)
          return wait_forever if seconds.nil? || seconds == Float::INFINITY

          deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
          @lock.synchronize do
            until @stopped
              left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
              break if left <= 0

              @cond.wait(@lock, left)
            end
            @stopped
          end
        end

        def wait_forever
          @lock.synchronize do
            @cond.wait(@lock) until @stopped
            true
          end
        end
      end
    end
  end
end
