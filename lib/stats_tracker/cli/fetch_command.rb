# frozen_string_literal: true

require_relative "command"
require_relative "../fetcher"
require_relative "../listing_chain"
require_relative "../versions_chain"
require_relative "history_access"

module StatsTracker
  class CLI
    # `stats-tracker fetch`: downloads pages from GitHub (or --base-url) with the Fetcher,
    # parses them, and prints one JSON object. Multi-page results (--versions, --listing)
    # are gathered into one object.
    class FetchCommand < Command
      BANNER = <<~TEXT.chomp
        Usage: stats-tracker fetch OWNER/PACKAGE [--user] [--versions] [--record] [options]
               stats-tracker fetch --listing OWNER [--user] [--repo OWNER/REPO] [options]
      TEXT
      ABOUT = <<~TEXT
        Fetches GHCR pages and prints their statistics as JSON. GITHUB_TOKEN, when set, is sent
        as a Bearer token to https URLs (or the --token-host). Progress goes to stderr on a terminal.
      TEXT

      def initialize(console)
        super
        @settings = { owner_type: :org, base_url: Fetcher::DEFAULT_BASE_URL, timeout: 15.0, retries: 3, max_pages: 100 }
      end

      def run(args)
        targets = options.parse(args)
        @kind = if @settings[:listing]
                  "listing"
                else
                  (@settings[:versions] ? "versions" : "package")
                end
        check(targets)
        return fetch_and_emit(targets.first) unless @settings[:record]

        # The store is opened before anything is fetched, so a bad URL costs no request.
        HistoryAccess.guarded(@console) do
          @history = HistoryAccess.open(@console)
          fetch_and_emit(targets.first)
        end
      rescue ParseError => e
        CLI.report_reject(@console, e, kind: @kind, source: @current_url)
      ensure
        @console.progress.finish
        @fetcher&.close
        @history&.close
      end

      private

      def fetch_and_emit(target)
        result = fetch(target)
        record(target) if @settings[:record]
        @console.emit(result)
        ExitCodes::OK
      end

      # Stores the package page's stats, and the versions when they were fetched too. The
      # observation is timestamped when the page was read.
      def record(target)
        owner, package = target.split("/", 2)
        @recorded_stats ||= package_stats(owner, package)
        outcome = @history.record(owner: owner, package: package, stats: @recorded_stats, versions: @recorded_versions,
                                  at: @fetched_at || Time.now)
        @console.warn("recorded #{owner}/#{package} (#{outcome == :added ? 'new total' : 'total unchanged'}) " \
                      "in #{@history.location}")
      end

      def package_stats(owner, package)
        page = fetched { fetcher.package_page(owner: owner, package: package, owner_type: @settings[:owner_type]) }
        parser.package(page.body)
      end

      def define_options(opts)
        opts.on("--user", "The owner is a user, not an organisation") { @settings[:owner_type] = :user }
        opts.on("--versions", "Per-version downloads, following every page") { @settings[:versions] = true }
        opts.on("--listing OWNER", "All container packages of OWNER, following every page") do |owner|
          @settings[:listing] = owner
        end
        opts.on("--repo OWNER/REPO", "With --listing: only packages linked to this repository") do |repo|
          @settings[:repo] = repo
        end
        opts.on("--base-url URL", "Server to fetch from (default #{Fetcher::DEFAULT_BASE_URL})") do |url|
          @settings[:base_url] = url
        end
        opts.on("--token-host HOST", "Send GITHUB_TOKEN to HOST even over plain http (default: https only)") do |host|
          @settings[:token_host] = host.downcase
        end
        setting(opts, :deadline, "--deadline SECONDS", Float, "Total time one request may take, however slow (default 60)",
                rule: "> 0", &:positive?)
        setting(opts, :timeout, "--timeout SECONDS", Float, "Connect and read timeout per request (default 15)",
                rule: "> 0", &:positive?)
        setting(opts, :retries, "--retries N", Integer, "Retries on 429, 5xx and timeouts (default 3)",
                rule: ">= 0") { |count| !count.negative? }
        setting(opts, :max_pages, "--max-pages N", Integer, "Stop following pages after N (default 100)",
                rule: ">= 1", &:positive?)
        opts.on("--record", "Also store the result in the history database (see `stats-tracker history`)") do
          @settings[:record] = true
        end
        opts.on("--pretty", "Indent the JSON") { @console.pretty = true }
      end

      # A numeric switch stored under `key`, refused as a usage error unless `valid` holds.
      def setting(opts, key, switch, type, about, rule:, &valid)
        opts.on(switch, type, about) do |value|
          raise UsageError, "#{switch.split.first} must be #{rule}" unless valid.call(value)

          @settings[key] = value
        end
      end

      def check(targets)
        if @settings[:listing]
          raise UsageError, "--listing takes no OWNER/PACKAGE argument" unless targets.empty?
          raise UsageError, "--record stores one package; it does not go with --listing" if @settings[:record]
          raise UsageError, "--versions and --listing do not go together" if @settings[:versions]
          raise UsageError, "--repo must look like OWNER/REPO" if @settings[:repo] && !@settings[:repo].match?(%r{\A[^/]+/[^/]+\z})
        else
          raise UsageError, "--repo only applies to --listing" if @settings[:repo]
          raise UsageError, "fetch needs one OWNER/PACKAGE" unless targets.size == 1
          raise UsageError, "expected OWNER/PACKAGE, got #{targets.first.inspect}" unless targets.first.match?(%r{\A[^/]+/.+\z})
        end
      end

      def fetch(target)
        return listing(@settings[:listing]) if @settings[:listing]

        owner, package = target.split("/", 2)
        @settings[:versions] ? versions(owner, package) : package(owner, package)
      end

      def package(owner, package)
        @console.progress.update("fetching #{owner}/#{package}")
        @fetched_at = Time.now
        @recorded_stats = package_stats(owner, package)
        ResultShape.of(@recorded_stats)
      end

      def versions(owner, package)
        read = 0
        chain = VersionsChain.new(max_pages: @settings[:max_pages], read_page: lambda { |number|
          @console.progress.update("#{owner}/#{package}: versions page #{number} (#{read} tags so far)")
          page = fetched do
            fetcher.versions_page(owner: owner, package: package, owner_type: @settings[:owner_type], page: number)
          end
          parser.versions(page.body).tap { |batch| read += batch.size }
        })
        @recorded_versions = chain.read.versions
        ResultShape.of(@recorded_versions)
      end

      def listing(owner)
        read = 0
        chain = ListingChain.new(max_pages: @settings[:max_pages], read_page: lambda { |number|
          @console.progress.update("#{owner}: listing page #{number} (#{read} packages so far)")
          page = fetched { fetcher.listing_page(owner: owner, owner_type: @settings[:owner_type], page: number) }
          parser.listing(page.body).tap { |result| read += result.packages.size }
        })
        listing_result(chain.read, nil)
      rescue IncompleteListingError => e
        raise unless e.reason == :page_limit

        @console.warn("stopped after #{@settings[:max_pages]} pages; next_page says where to go on")
        listing_result(e.packages, e.next_page)
      end

      def listing_result(packages, next_page)
        shaped = ResultShape.of(Listing.new(packages: packages, next_page: next_page))
        return shaped unless @settings[:repo]

        shaped.merge("packages" => shaped["packages"].select { |entry| entry["repository"] == @settings[:repo] })
      end

      def fetched
        page = yield
        @current_url = page.url
        page
      end

      # The token goes only where the user meant it to: an https URL, or the host they named.
      def token
        value = @console.env["GITHUB_TOKEN"]
        return nil if value.nil? || value.empty?
        raise UsageError, "GITHUB_TOKEN contains a control character (a trailing \\r or newline?)" if value.match?(/[[:cntrl:]]/)

        uri = URI.parse(@settings[:base_url])
        return value if uri.scheme == "https" || uri.host&.downcase == @settings[:token_host]

        @console.warn("GITHUB_TOKEN not sent to #{uri.scheme}://#{uri.host}: not https (name the host with --token-host)")
        nil
      rescue URI::InvalidURIError
        nil # the Fetcher reports the bad URL
      end

      def fetcher
        @fetcher ||= Fetcher.new(
          base_url: @settings[:base_url], token: token, total_timeout: @settings[:deadline] || Fetcher::DEFAULT_TOTAL_TIMEOUT,
          open_timeout: @settings[:timeout], read_timeout: @settings[:timeout], max_retries: @settings[:retries],
          sleeper: lambda { |seconds|
            @console.progress.update(format("server busy; retrying in %.1fs", seconds))
            sleep(seconds)
          }
        )
      rescue ArgumentError => e
        raise UsageError, e.message
      end

      def parser
        @parser ||= ParserAccess.parser
      end
    end
  end
end
