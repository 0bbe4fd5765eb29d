# frozen_string_literal: true

module StatsTracker
  module Operator
    module Reconcilers
      # What a reconciler decided. `status` is the full desired status (the controller writes it
      # only if it differs from the stored one); `requeue_after` schedules the next look;
      # `failure` (a Failure) asks for a backoff retry; `event` is [type, reason, note] or nil;
      # `waiting`: the GitHub budget had no token, so `requeue_after` is when its turn comes.
      Outcome = Struct.new(:status, :requeue_after, :failure, :event, :fetched, :waiting, keyword_init: true) do
        def failed?
          !failure.nil?
        end

        def waiting?
          waiting == true
        end
      end

      # reason: a kstatus reason (RateLimited, NotFound, ...); retry_after: seconds GitHub asked
      # for; stalled: retrying cannot help until something changes (spec, token, parser).
      Failure = Struct.new(:reason, :message, :retry_after, :stalled, keyword_init: true)
    end
  end
end
