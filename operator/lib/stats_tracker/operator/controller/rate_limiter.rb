# frozen_string_literal: true

module StatsTracker
  module Operator
    module Controller
      # Process-wide token bucket for requests to GitHub, shared by every worker, plus a pause that
      # a 429 with Retry-After can impose on all of them (GitHub rate-limits per client, not per page).
      # Nothing here waits: a worker that finds no token is told when to come back and is free for
      # other keys meanwhile. The keys told to wait keep a place in line, and their places are
      # dealt round-robin across namespaces, so one tenant with a thousand waiting objects does
      # not push another tenant's one object back by a thousand tokens. Within a namespace,
      # listing reads go first: one listing decides which Leafs exist and answers a user's edit,
      # while the Leaf reads queued beside it (often set off by that same edit) only refresh counts.
      # Optional reads (versions pages) take only spare tokens, so they never delay a count.
      class RateLimiter
        # A waiter that has not come back this long after its turn (its object deleted, or no
        # longer needing GitHub) gives up its place.
        FORGET_AFTER = 30.0
        # A bucket short of a whole token by a float rounding error holds one: told to wait a
        # few picoseconds, a key would be handed straight back with the clock barely moved.
        ROUNDING = 1e-9
        # due: when the key was told to come back; listing: a listing read.
        Place = Struct.new(:due, :listing)

        def initialize(rate:, burst:, clock: -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) })
          @rate = rate.to_f
          @burst = burst.to_f
          @clock = clock
          @tokens = @burst
          @stamp = clock.call
          @paused_until = 0.0
          # namespace => { key => Place }, listings first, each part in order of arrival.
          @lines = {}
          # Tokens an optional read must leave in the bucket for the counts that come next.
          @reserve = (@burst / 2).floor
          @lock = Mutex.new
        end

        # Takes a token for `key` and returns 0.0, or returns the seconds until its turn (the pause
        # GitHub asked for, then its place in line); never waits. listing: a listing read, which
        # joins its namespace's line behind the listings already there and ahead of the rest.
        def take(key, namespace: nil, listing: false)
          @lock.synchronize do
            now = @clock.call
            refill(now)
            forget_stale(now)
            if @paused_until <= now && @tokens >= 1 + listings_ahead(key, namespace, listing) - ROUNDING
              @tokens -= 1
              leave(key, namespace)
              next 0.0
            end

            join(key, namespace, listing)
            wait = turn_wait(place(key, namespace), now)
            @lines[namespace][key].due = now + wait
            wait
          end
        end

        # Takes a token for an optional request only if one is spare: no key is waiting for a
        # turn, GitHub has not paused us, and half the burst stays in the bucket. Never waits.
        def try_acquire_spare
          @lock.synchronize do
            now = @clock.call
            refill(now)
            forget_stale(now)
            next false if waiting? || @paused_until > now || @tokens < 1 + @reserve

            @tokens -= 1
            true
          end
        end

        def pause_for(seconds)
          @lock.synchronize { @paused_until = [@paused_until, @clock.call + seconds.to_f].max }
        end

        private

        def waiting?
          @lines.each_value.any? { |line| !line.empty? }
        end

        # The listings waiting in the key's namespace that a token must be left for: those ahead of
        # it in line, and for a page read every one (they come back for the tokens they were told of).
        def listings_ahead(key, namespace, listing)
          line = @lines[namespace] or return 0
          listings = line.each_pair.take_while { |_, place| place.listing }.map(&:first)
          listing ? listings.index(key) || listings.size : listings.size
        end

        # A key already in line keeps its place.
        def join(key, namespace, listing)
          line = (@lines[namespace] ||= {})
          return if line.key?(key)

          listings, rest = line.partition { |_, place| place.listing }
          @lines[namespace] = listings.to_h.merge(key => Place.new(0.0, listing)).merge(rest.to_h) if listing && rest.any?
          @lines[namespace][key] ||= Place.new(0.0, listing)
        end

        def leave(key, namespace)
          line = @lines[namespace] or return
          line.delete(key)
          @lines.delete(namespace) if line.empty?
        end

        def forget_stale(now)
          @lines.each_value { |line| line.delete_if { |_, place| place.due + FORGET_AFTER < now } }
          @lines.delete_if { |_, line| line.empty? }
        end

        # 1-based: the key's round is its index in its namespace's line; every namespace with a
        # key in an earlier round goes first, then the namespaces ahead of it in this round.
        def place(key, namespace)
          index = @lines.fetch(namespace).keys.index(key)
          earlier = @lines.each_value.sum { |line| [line.size, index].min }
          ahead = @lines.take_while { |ns, _| ns != namespace }.count { |_, line| line.size > index }
          earlier + ahead + 1
        end

        # When the `place`-th token from now can be taken: after the pause, with what the bucket
        # holds by then.
        def turn_wait(place, now)
          pause = [@paused_until - now, 0.0].max
          held = [@burst, @tokens + (pause * @rate)].min
          pause + ([place - held, 0.0].max / @rate)
        end

        def refill(now)
          @tokens = [@burst, @tokens + ((now - @stamp) * @rate)].min
          @stamp = now
        end
      end
    end
  end
end
