# frozen_string_literal: true

require "uri"

module StatsTracker
  module Testing
    class PageServer
      # What the server answers, changeable while it runs: pages by (path, page number),
      # redirects, queued failures and delays, and a log of what was asked. Every access goes
      # through one Mutex because WEBrick serves each connection on its own thread.
      class RouteTable
        Route = Struct.new(:status, :body, :location, keyword_init: true)
        Rule = Struct.new(:prefix, :remaining, :status, :retry_after, :body, :delay, keyword_init: true)

        def initialize
          @routes = {}
          @failures = []
          @delays = []
          @requests = []
          @lock = Mutex.new
        end

        def put(path, body, page: 1)
          @lock.synchronize { @routes[key(path, page)] = Route.new(status: 200, body: body.b.freeze) }
        end

        def redirect(path, location, status:, page: 1)
          @lock.synchronize { @routes[key(path, page)] = Route.new(status: status, location: location) }
        end

        def remove(path, page: 1)
          @lock.synchronize { @routes.delete(key(path, page)) }
        end

        def lookup(target)
          path, page = split(target)
          @lock.synchronize { @routes[key(path, page)] }
        end

        def add_failure(prefix, status:, times:, retry_after:, body:)
          @lock.synchronize do
            @failures << Rule.new(prefix: prefix, remaining: times, status: status, retry_after: retry_after, body: body)
          end
        end

        def add_delay(prefix, seconds:, times:)
          @lock.synchronize { @delays << Rule.new(prefix: prefix, remaining: times, delay: seconds) }
        end

        # Takes one use of the first matching failure (or delay) rule, or returns nil.
        def take_failure(target)
          take(@failures, target)
        end

        def take_delay(target)
          take(@delays, target)&.delay
        end

        def log(entry)
          @lock.synchronize { @requests << entry.freeze }
        end

        def requests
          @lock.synchronize { @requests.dup }
        end

        def clear
          @lock.synchronize do
            [@routes, @failures, @delays, @requests].each(&:clear)
          end
        end

        private

        def take(rules, target)
          @lock.synchronize do
            rule = rules.find { |r| target.start_with?(r.prefix) }
            next nil unless rule

            rule.remaining -= 1
            rules.delete(rule) if rule.remaining <= 0
            rule
          end
        end

        def key(path, page)
          [path, Integer(page)]
        end

        # "/orgs/x/packages?page=2&per_page=10" -> ["/orgs/x/packages", 2]: pages are told apart by
        # their page parameter only, so extra query parameters GitHub adds do not matter.
        def split(target)
          path, query = target.split("?", 2)
          page = URI.decode_www_form(query.to_s).to_h.fetch("page", "1")
          [path, page.match?(/\A\d+\z/) ? Integer(page, 10) : -1]
        rescue ArgumentError
          [path, -1]
        end
      end
    end
  end
end
