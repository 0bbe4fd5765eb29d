# frozen_string_literal: true

module StatsTracker
  # Reads download statistics out of GHCR web pages by running the bundled parser
  # component in wasmtime: a fresh sandbox per call, the GVL released meanwhile.
  # One Parser may be shared by many threads.
  #
  # Sandboxes come from a pool of STATS_TRACKER_POOL_SLOTS instance slots per process
  # (default 64, read once; 0 allocates per call instead). Each slot reserves about 8 GiB
  # of address space, none of it resident until used; a call finding every slot busy waits
  # for one, within its timeout. memory_limit is effective up to 4 GiB (a wasm32 memory's
  # maximum); larger values behave as 4 GiB.
  class Parser
    BUNDLED_COMPONENT = File.expand_path("wasm/ghcr_parser.wasm", __dir__)
    DEFAULT_TIMEOUT = 2.0
    DEFAULT_MEMORY_LIMIT = 64 * 1024 * 1024

    attr_reader :timeout, :memory_limit, :max_input_bytes

    # component: path of a replacement parser component (same WIT world), or bytes: the
    # component itself (one of the two at most); sha256: its expected hex digest, checked before
    # anything is compiled.
    def initialize(timeout: DEFAULT_TIMEOUT, memory_limit: DEFAULT_MEMORY_LIMIT, component: nil, sha256: nil, bytes: nil)
      raise ArgumentError, "give component: (a path) or bytes:, not both" if component && bytes
      raise TypeError, "bytes must be a String, got #{bytes.class}" unless bytes.nil? || bytes.is_a?(String)

      @timeout = Limits.timeout(timeout)
      @memory_limit = Limits.byte_count(memory_limit, :memory_limit)
      @component = Compiled.component(bytes || File.binread(component || BUNDLED_COMPONENT), sha256: sha256)
      @max_input_bytes = @component.max_input_bytes(@timeout, @memory_limit)
    end

    # -> PackageStats; raises ParseError (see ParseError::REASONS).
    def package(html)
      total, days, published = call(:package, html)
      PackageStats.new(
        total_downloads: total,
        last_30_days: days&.map { |date, count| DailyCount.new(date: date, count: count) },
        last_published: published
      )
    end

    # -> Array<VersionDownloads>, in page order.
    def versions(html)
      call(:versions, html).map { |tag, downloads| VersionDownloads.new(tag: tag, downloads: downloads) }.freeze
    end

    # -> Listing
    def listing(html)
      packages, next_page = call(:listing, html)
      Listing.new(
        packages: packages.map { |name, repository| ListedPackage.new(name: name, repository: repository) },
        next_page: next_page
      )
    end

    private

    def call(entry_point, html)
      raise TypeError, "html must be a String, got #{html.class}" unless html.is_a?(String)
      # Refuse oversized input before copying it into the sandbox; the guest would
      # answer the same after paying for the copy.
      raise ParseError.new(reason: :too_large) if html.bytesize > @max_input_bytes

      result = @component.public_send(entry_point, html, @timeout, @memory_limit)
      raise ParseError.new(reason: result) if result.is_a?(Symbol)

      result
    end
  end
end
