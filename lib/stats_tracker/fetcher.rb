# frozen_string_literal: true

require "net/http"
require "openssl"
require "uri"
require_relative "version"
require_relative "error"
require_relative "fetcher/page"
require_relative "fetcher/github_paths"
require_relative "fetcher/retry_policy"
require_relative "fetcher/connection_pool"

module StatsTracker
  # Downloads GHCR package pages from GitHub (or any server speaking its paths, such as the
  # local page server the tests use). It only moves bytes: deciding what a page says, even
  # whether a 429 page is a rate-limit page, is the parser's job.
  class Fetcher
    DEFAULT_BASE_URL = "https://github.com"
    # Names the software and what it does, so a site operator reading logs knows who calls.
    # (No project URL is published yet; add "+URL" here once there is one.)
    DEFAULT_USER_AGENT = "stats_tracker/#{VERSION} (Ruby gem reading GHCR package download counts; " \
                         "ruby/#{RUBY_VERSION}; net-http)".freeze
    MAX_REDIRECTS = 5
    REDIRECT_STATUSES = [301, 302, 303, 307, 308].freeze
    # Statuses whose HTML body the parser can classify, so they come back as a Page.
    PAGE_STATUSES = [200, 404, 429].freeze
    # A real package page is ~240 KB; anything far larger is not one and is not buffered.
    DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024

    # A whole request (connect, headers, body, redirects) ends by then, however slowly a
    # server trickles bytes that each arrive within read_timeout.
    DEFAULT_TOTAL_TIMEOUT = 60.0

    # Failures of the connection itself, as opposed to an HTTP answer. All are worth a retry.
    TRANSPORT_ERRORS = [
      Net::OpenTimeout, Net::ReadTimeout, Net::WriteTimeout, Timeout::Error, EOFError, IOError,
      SocketError, SystemCallError, Net::HTTPBadResponse
    ].freeze
    # A failed TLS handshake or certificate check fails the same way on every attempt.
    FINAL_ERRORS = [OpenSSL::SSL::SSLError].freeze

    # Raised inside an attempt that ran past total_timeout.
    class DeadlineExceeded < Timeout::Error; end
    private_constant :DeadlineExceeded

    attr_reader :base_url, :user_agent, :max_retries

    def initialize(base_url: DEFAULT_BASE_URL, token: nil, open_timeout: 5, read_timeout: 15, max_retries: 3,
                   user_agent: DEFAULT_USER_AGENT, sleeper: ->(seconds) { sleep(seconds) },
                   max_retry_wait: 120.0, max_body_bytes: DEFAULT_MAX_BODY_BYTES, random: Random.new,
                   total_timeout: DEFAULT_TOTAL_TIMEOUT)
      @base_uri = parse_base_url(base_url)
      @base_url = @base_uri.to_s.chomp("/")
      @token = check_token(token)
      @total_timeout = Float(total_timeout)
      @user_agent = user_agent
      @max_retries = max_retries
      @sleeper = sleeper
      @max_body_bytes = max_body_bytes
      @retry_policy = RetryPolicy.new(max_retries: max_retries, max_wait: max_retry_wait, random: random)
      @pool = ConnectionPool.new(uri: @base_uri, open_timeout: open_timeout, read_timeout: read_timeout)
    end

    def package_page(owner:, package:, owner_type: :org, etag: nil)
      get(GithubPaths.package(owner: owner, package: package, owner_type: owner_type), etag: etag)
    end

    def versions_page(owner:, package:, owner_type: :org, page: 1)
      get(GithubPaths.versions(owner: owner, package: package, owner_type: owner_type, page: page))
    end

    def listing_page(owner:, owner_type: :org, page: 1)
      get(GithubPaths.listing(owner: owner, owner_type: owner_type, page: page))
    end

    # GET a path on the base URL: follows same-origin redirects, retries what is worth
    # retrying, and returns a Page or raises FetchError.
    def get(path, etag: nil)
      uri = resolve(path)
      attempt = 0
      loop do
        outcome = attempt_once(uri, etag)
        return outcome if outcome.is_a?(Page)

        wait = @retry_policy.delay(attempt: attempt, retry_after: outcome.retry_after)
        return give_up(outcome) if wait.nil?

        @sleeper.call(wait)
        attempt += 1
      end
    end

    # Closes idle keep-alive connections. The Fetcher stays usable (it reconnects).
    def close
      @pool.close
    end

    def inspect
      "#<#{self.class.name} base_url=#{@base_url} token=#{@token ? '[set]' : 'none'} max_retries=#{max_retries}>"
    end

    private

    # A failed attempt that may be retried: either a response (retryable status) or a
    # transport error.
    Failure = Struct.new(:status, :retry_after, :page, :error, keyword_init: true)

    def attempt_once(uri, etag)
      page = Timeout.timeout(@total_timeout, DeadlineExceeded) { follow_redirects(uri, etag) }
      return page unless @retry_policy.retryable_status?(page.status)

      Failure.new(status: page.status, retry_after: page.retry_after, page: page)
    rescue DeadlineExceeded
      Failure.new(error: DeadlineExceeded.new("no complete answer from #{uri} within the #{@total_timeout}s deadline"))
    rescue *FINAL_ERRORS => e
      raise FetchError.new("#{e.class}: #{e.message} (#{uri}; not retried)", status: nil)
    rescue *TRANSPORT_ERRORS => e
      Failure.new(error: e)
    end

    def give_up(failure)
      page = failure.page
      return page if page && PAGE_STATUSES.include?(page.status) && html?(page)

      if failure.error
        raise FetchError.new("#{failure.error.class}: #{failure.error.message} (after #{max_retries} retries)",
                             status: nil, retry_after: nil)
      end

      raise FetchError.new("HTTP #{failure.status} from #{page&.url} (after retries)",
                           status: failure.status, retry_after: failure.retry_after)
    end

    def follow_redirects(uri, etag)
      (MAX_REDIRECTS + 1).times do
        response, body = request(uri, etag)
        status = response.code.to_i
        return to_page(response, body, status, uri, etag) unless REDIRECT_STATUSES.include?(status)

        uri = redirect_target(uri, response["location"])
      end
      raise FetchError.new("more than #{MAX_REDIRECTS} redirects from #{uri}", status: nil)
    end

    def to_page(response, body, status, uri, etag)
      retry_after = RetryPolicy.parse_retry_after(response["retry-after"])
      page = Page.new(body: body, status: status, url: uri.to_s, etag: response["etag"] || (status == 304 ? etag : nil),
                      retry_after: retry_after)
      return page if [200, 304].include?(status) || @retry_policy.retryable_status?(status)
      return page if PAGE_STATUSES.include?(status) && html?(page)

      raise FetchError.new("HTTP #{status} from #{uri}", status: status, retry_after: retry_after)
    end

    def request(uri, etag)
      @pool.with_connection do |http|
        body = +""
        response = http.request(build_request(uri, etag)) { |res| read_capped(res, body) }
        [response, body]
      end
    end

    def build_request(uri, etag)
      req = Net::HTTP::Get.new(uri)
      req["User-Agent"] = @user_agent
      req["Accept"] = "text/html,application/xhtml+xml"
      req["Authorization"] = "Bearer #{@token}" if @token
      req["If-None-Match"] = etag if etag
      req
    end

    def read_capped(response, buffer)
      response.read_body do |chunk|
        buffer << chunk
        next if buffer.bytesize <= @max_body_bytes

        raise FetchError.new("response body exceeds #{@max_body_bytes} bytes", status: response.code.to_i)
      end
    end

    # Only same-origin redirects are followed: the Authorization header must never travel
    # to another host, and a scraper has no business wandering off GitHub.
    def redirect_target(from, location)
      raise FetchError.new("redirect without Location from #{from}", status: nil) if location.nil? || location.empty?

      target = from.merge(location)
      unless same_origin?(from, target)
        raise FetchError.new("refusing redirect from #{from} to another origin (#{target})", status: nil)
      end

      target
    rescue URI::Error => e
      raise FetchError.new("bad redirect Location #{location.inspect}: #{e.message}", status: nil)
    end

    def same_origin?(left, right)
      left.scheme == right.scheme && left.host&.downcase == right.host&.downcase && left.port == right.port
    end

    def resolve(path)
      raise ArgumentError, "path must start with /" unless path.start_with?("/")

      URI.parse(@base_url + path)
    end

    def html?(page)
      head = page.body.byteslice(0, 1024).to_s.downcase
      head.include?("<html") || head.include?("<!doctype html")
    end

    # Net::HTTP refuses CR/LF in a header only when the request is built, as an ArgumentError
    # deep in a fetch; a token pasted from a Windows file ends in "\r".
    def check_token(token)
      return nil if token.nil? || token.to_s.empty?

      text = token.to_s
      if text.match?(/[[:cntrl:]]/)
        raise ArgumentError, "token contains a control character (a trailing \\r or newline from a file?); " \
                             "strip it before use"
      end

      text
    end

    def parse_base_url(base_url)
      uri = URI.parse(base_url.to_s)
      raise ArgumentError, "base_url must be an http(s) URL, got #{base_url.inspect}" unless uri.is_a?(URI::HTTP) && uri.host

      uri
    rescue URI::InvalidURIError => e
      raise ArgumentError, "base_url is not a URL: #{e.message}"
    end
  end
end
