# frozen_string_literal: true

require "digest"
require "logger"
require "webrick"
require_relative "page_server/corpus"
require_relative "page_server/route_table"

module StatsTracker
  module Testing
    # A stand-in for github.com that speaks its package URLs over real HTTP/1.1 on
    # 127.0.0.1, serving the fixture corpus. Tests, `rake demo` and the benchmarks point a
    # Fetcher at #base_url. Deliberately free of RSpec so all of them can use it.
    #
    # Paths are written out here independently of Fetcher::GithubPaths, so a wrong path in
    # the fetcher shows up as a 404 rather than being mirrored.
    class PageServer
      DEFAULT_FIXTURES_DIR = File.expand_path("../spec/fixtures/ghcr", __dir__)
      NOT_FOUND_FIXTURE = "reject-not-found.html"
      RATE_LIMITED_FIXTURE = "reject-rate-limited.html"
      REDIRECT_STATUSES = [301, 302, 303, 307, 308].freeze

      def self.package_html(total:, fixture: "package-small-42.html", fixtures_dir: default_fixtures_dir)
        corpus_for(fixtures_dir).package_html(total: total, fixture: fixture)
      end

      def self.default_fixtures_dir
        defined?(::GHCR_FIXTURES) ? ::GHCR_FIXTURES : DEFAULT_FIXTURES_DIR
      end

      def self.corpus_for(dir)
        @corpora_lock ||= Mutex.new
        @corpora_lock.synchronize { (@corpora ||= {})[File.expand_path(dir)] ||= Corpus.new(dir) }
      end

      attr_reader :corpus

      # bind: another local address when clients are not on this host's loopback (pods on a node
      # reach it on the node's bridge address).
      def initialize(fixtures_dir: self.class.default_fixtures_dir, bind: "127.0.0.1")
        @corpus = self.class.corpus_for(fixtures_dir)
        @bind = bind
        @table = RouteTable.new
        @stop_lock = Mutex.new
        @stop_signal = ConditionVariable.new
        @stopped = false
        @in_flight = 0
        @server = nil
        @thread = nil
      end

      def start
        raise "already started" if @server

        ready = Queue.new
        @server = WEBrick::HTTPServer.new(
          BindAddress: @bind, Port: 0, DoNotReverseLookup: true,
          Logger: WEBrick::Log.new(File::NULL), AccessLog: [],
          StartCallback: -> { ready << true }
        )
        @server.mount_proc("/") { |req, res| handle(req, res) }
        @thread = Thread.new { @server.start }
        @thread.report_on_exception = false
        ready.pop
        self
      end

      def port
        @server&.config&.fetch(:Port) or raise "not started"
      end

      def base_url
        "http://#{@bind}:#{port}"
      end

      def stop
        return unless @server

        @stop_lock.synchronize do
          @stopped = true
          @stop_signal.broadcast # wakes every handler sleeping in a delay
        end
        @server.shutdown
        @thread&.join(10)
        @server = nil
      end

      # --- routes -------------------------------------------------------------------------

      def serve_package(owner:, package:, html: nil, fixture: nil, owner_type: :org)
        @table.put(package_path(owner, package, owner_type), body_from(html: html, fixture: fixture))
        self
      end

      def serve_listing(owner:, pages:, owner_type: :org)
        pages.each_with_index do |page, index|
          @table.put(listing_path(owner, owner_type), corpus.resolve(page), page: index + 1)
        end
        self
      end

      def serve_versions(owner:, package:, pages:, owner_type: :org)
        pages.each_with_index do |page, index|
          @table.put(versions_path(owner, package, owner_type), corpus.resolve(page), page: index + 1)
        end
        self
      end

      # Any path (page 1) answering with a redirect to location.
      def serve_redirect(path, location:, status: 301)
        raise ArgumentError, "not a redirect status: #{status}" unless REDIRECT_STATUSES.include?(status)

        @table.redirect(path, location, status: status)
        self
      end

      def remove(path, page: 1)
        @table.remove(path, page: page)
        self
      end

      # The next `times` requests whose path (with query) starts with path_prefix get status
      # instead of the page. Bodies default to GitHub's: the rate-limit page for 429, the
      # "not found" page for 404.
      def fail_next(path_prefix, status:, times: 1, retry_after: nil, body: nil)
        @table.add_failure(path_prefix, status: status, times: times, retry_after: retry_after,
                                        body: body || default_failure_body(status))
        self
      end

      # The next `times` matching requests are answered only after `seconds` (to provoke
      # client read timeouts). Stopping the server cuts the wait short.
      def delay_next(path_prefix, seconds:, times: 1)
        @table.add_delay(path_prefix, seconds: seconds, times: times)
        self
      end

      def requests
        @table.requests
      end

      # Requests being answered right now (e.g. sitting in a delay_next).
      def in_flight
        @stop_lock.synchronize { @in_flight }
      end

      def request_count(path_prefix = nil)
        requests.count { |r| path_prefix.nil? || r[:path].start_with?(path_prefix) }
      end

      # Paths as GitHub writes them; public so tests can name them in fail_next and friends.
      def package_path(owner, package, owner_type = :org)
        "#{owner_prefix(owner, owner_type)}/packages/container/package/#{escape(package)}"
      end

      def versions_path(owner, package, owner_type = :org)
        "#{owner_prefix(owner, owner_type)}/packages/container/#{escape(package)}/versions"
      end

      def listing_path(owner, owner_type = :org)
        owner_type.to_sym == :org ? "/orgs/#{escape(owner)}/packages" : "/#{escape(owner)}"
      end

      private

      def owner_prefix(owner, owner_type)
        owner_type.to_sym == :org ? "/orgs/#{escape(owner)}" : "/users/#{escape(owner)}"
      end

      def escape(segment)
        URI.encode_www_form_component(segment.to_s).gsub("+", "%20")
      end

      def body_from(html:, fixture:)
        raise ArgumentError, "give exactly one of html: or fixture:" unless html.nil? ^ fixture.nil?

        html ? html.b : corpus.read(fixture)
      end

      def default_failure_body(status)
        case status
        when 429 then corpus.read(RATE_LIMITED_FIXTURE)
        when 404 then corpus.read(NOT_FOUND_FIXTURE)
        else "#{status} #{WEBrick::HTTPStatus.reason_phrase(status)}\n"
        end
      end

      # --- serving ------------------------------------------------------------------------

      def handle(req, res)
        target = req.unparsed_uri # raw: WEBrick's req.path would decode charts%2Fflagger
        @stop_lock.synchronize { @in_flight += 1 }
        wait(@table.take_delay(target))
        respond(req, res, target)
      ensure
        @stop_lock.synchronize { @in_flight -= 1 }
        @table.log(method: req.request_method, path: target, status: res.status,
                   if_none_match: req["If-None-Match"], authorization: req["Authorization"],
                   user_agent: req["User-Agent"], client_port: req.peeraddr&.at(1))
      end

      def respond(req, res, target)
        if (failure = @table.take_failure(target))
          return write(res, failure.status, failure.body, "Retry-After" => failure.retry_after&.to_s)
        end

        route = @table.lookup(target)
        return write(res, 404, corpus.read(NOT_FOUND_FIXTURE)) unless route
        return write(res, route.status, "", "Location" => route.location) if route.location

        etag = %("#{Digest::SHA256.hexdigest(route.body)}")
        return write(res, 304, nil, "ETag" => etag) if etag_matches?(req["If-None-Match"], etag)

        write(res, 200, route.body, "ETag" => etag)
      end

      def etag_matches?(header, etag)
        return false if header.nil?

        header.split(",").map { |tag| tag.strip.delete_prefix("W/") }.any? { |tag| tag == etag || tag == "*" }
      end

      def write(res, status, body, headers = {})
        res.status = status
        headers.each { |name, value| res[name] = value if value }
        if body
          res["Content-Type"] = "text/html; charset=utf-8"
          res.body = body
        end
        nil
      end

      def wait(seconds)
        return unless seconds

        deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + seconds
        @stop_lock.synchronize do
          until @stopped
            left = deadline - Process.clock_gettime(Process::CLOCK_MONOTONIC)
            break if left <= 0

            @stop_signal.wait(@stop_lock, left)
          end
        end
      end
    end
  end
end
