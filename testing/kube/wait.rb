# frozen_string_literal: true

module StatsTracker
  module Testing
    module Kube
      class WaitTimeoutError < StandardError; end

      # Polling with a deadline: the harness waits for conditions that other processes make true
      # (readiness, Established, garbage collection). The deadline bounds a hang, it is not an assertion
      # about speed, so it is generous.
      module Wait
        def self.until(what, timeout:, interval: 0.1, diagnostics: nil)
          deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
          loop do
            result = yield
            return result if result
            break if Process.clock_gettime(Process::CLOCK_MONOTONIC) >= deadline

            sleep interval
          end
          detail = diagnostics ? "\n#{diagnostics.call}" : ""
          raise WaitTimeoutError, "timed out after #{timeout}s waiting for #{what}#{detail}"
        end
      end
    end
  end
end
