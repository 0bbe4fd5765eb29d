# frozen_string_literal: true

require "time"

RSpec.describe StatsTracker::Fetcher do
  subject(:fetcher) { described_class.new(base_url: server.base_url, sleeper: sleeper, **options) }

  let(:server) { StatsTracker::Testing::PageServer.new(fixtures_dir: GHCR_FIXTURES).start }
  let(:waits) { [] }
  let(:sleeper) { ->(seconds) { waits << seconds } }
  let(:options) { {} }
  let(:package_path) { "/orgs/acme/packages/container/package/app" }

  after do
    fetcher.close
    server.stop
  end

  def fixture(name)
    File.binread(File.join(GHCR_FIXTURES, name))
  end

  describe "paths and headers" do
    it "fetches an org package page byte for byte" do
      server.serve_package(owner: "acme", package: "app", fixture: "package-small-42.html")

      page = fetcher.package_page(owner: "acme", package: "app")

      expect(page.status).to eq(200)
      expect(page.body).to eq(fixture("package-small-42.html"))
      expect(page.body.encoding).to eq(Encoding::BINARY)
      expect(page.url).to eq("#{server.base_url}#{package_path}")
      expect(page).not_to be_not_modified
    end

    it "encodes a package name containing a slash as one path segment" do
      server.serve_package(owner: "fluxcd", package: "charts/flagger", fixture: "package-slash-name-oneline.html")

      page = fetcher.package_page(owner: "fluxcd", package: "charts/flagger")

      expect(page.status).to eq(200)
      expect(server.requests.last[:path]).to eq("/orgs/fluxcd/packages/container/package/charts%2Fflagger")
    end

    it "uses the user paths for user-owned packages, listings and versions" do
      server.serve_package(owner: "jdoe", package: "tool", fixture: "package-user-logged-in.html", owner_type: :user)
      server.serve_listing(owner: "jdoe", pages: ["listing-empty.html"], owner_type: :user)
      server.serve_versions(owner: "jdoe", package: "tool", pages: ["versions-tagged-2026-user.html"], owner_type: :user)

      statuses = [
        fetcher.package_page(owner: "jdoe", package: "tool", owner_type: :user),
        fetcher.listing_page(owner: "jdoe", owner_type: :user),
        fetcher.versions_page(owner: "jdoe", package: "tool", owner_type: :user)
      ].map(&:status)

      expect(statuses).to eq([200, 200, 200])
      expect(server.requests.map { |r| r[:path] }).to eq(
        ["/users/jdoe/packages/container/package/tool", "/jdoe?tab=packages&page=1",
         "/users/jdoe/packages/container/tool/versions?filters%5Bversion_type%5D=tagged&page=1"]
      )
    end

    it "asks for the requested listing and versions page numbers" do
      server.serve_listing(owner: "fluxcd", pages: %w[listing-fluxcd-page1.html listing-fluxcd-page2.html
                                                      listing-fluxcd-page3.html])
      server.serve_versions(owner: "acme", package: "app", pages: %w[versions-tagged-2023.html versions-tagged-page2.html])

      expect(fetcher.listing_page(owner: "fluxcd", page: 3).body).to eq(fixture("listing-fluxcd-page3.html"))
      expect(fetcher.versions_page(owner: "acme", package: "app", page: 2).body).to eq(fixture("versions-tagged-page2.html"))
    end

    it "sends a descriptive User-Agent and no Authorization without a token" do
      server.serve_package(owner: "acme", package: "app", fixture: "package-small-42.html")
      fetcher.package_page(owner: "acme", package: "app")

      request = server.requests.last
      expect(request[:user_agent]).to start_with("stats_tracker/#{StatsTracker::VERSION} (").and include("GHCR")
      expect(request[:authorization]).to be_nil
    end

    context "with a token" do
      let(:options) { { token: "ghp_example" } }

      it "sends it as a Bearer token" do
        server.serve_package(owner: "acme", package: "app", fixture: "package-small-42.html")
        fetcher.package_page(owner: "acme", package: "app")

        expect(server.requests.last[:authorization]).to eq("Bearer ghp_example")
        expect(fetcher.inspect).not_to include("ghp_example")
      end
    end

    it "reuses one kept-alive connection for consecutive pages" do
      server.serve_listing(owner: "fluxcd", pages: %w[listing-fluxcd-page1.html listing-fluxcd-page2.html
                                                      listing-fluxcd-page3.html])

      (1..3).each { |n| fetcher.listing_page(owner: "fluxcd", page: n) }

      expect(server.requests.map { |r| r[:client_port] }.uniq.size).to eq(1)
    end

    it "serves many threads at once with the right page each" do
      totals = (1..8).map { |n| n * 1111 }
      totals.each do |total|
        server.serve_package(owner: "acme", package: "p#{total}",
                             html: StatsTracker::Testing::PageServer.package_html(total: total))
      end

      bodies = totals.map { |total| Thread.new { fetcher.package_page(owner: "acme", package: "p#{total}").body } }
                     .map(&:value)

      expect(bodies.map { |b| b[%r{Total downloads</span>\s*<h3 title="(\d+)"}, 1].to_i }).to eq(totals)
    end

    it "rejects a base URL that is not http(s)" do
      expect { described_class.new(base_url: "ftp://example.org") }.to raise_error(ArgumentError, /http/)
    end
  end

  describe "conditional requests" do
    it "sends If-None-Match and returns an empty not-modified page when the ETag matches" do
      server.serve_package(owner: "acme", package: "app", fixture: "package-small-42.html")
      first = fetcher.package_page(owner: "acme", package: "app")

      second = fetcher.package_page(owner: "acme", package: "app", etag: first.etag)

      expect(first.etag).to match(/\A"\h{64}"\z/)
      expect(second).to be_not_modified
      expect(second.status).to eq(304)
      expect(second.body).to eq("")
      expect(second.etag).to eq(first.etag)
      expect(server.requests.last[:if_none_match]).to eq(first.etag)
    end

    it "gets the new page when it changed since the ETag" do
      server.serve_package(owner: "acme", package: "app", html: StatsTracker::Testing::PageServer.package_html(total: 100))
      first = fetcher.package_page(owner: "acme", package: "app")
      server.serve_package(owner: "acme", package: "app", html: StatsTracker::Testing::PageServer.package_html(total: 101))

      second = fetcher.package_page(owner: "acme", package: "app", etag: first.etag)

      expect(second.status).to eq(200)
      expect(second.etag).not_to eq(first.etag)
      expect(second.body).to include('title="101"')
    end
  end

  describe "retries" do
    before { server.serve_package(owner: "acme", package: "app", fixture: "package-small-42.html") }

    it "waits at least Retry-After seconds before retrying a 429" do
      server.fail_next(package_path, status: 429, retry_after: 7, times: 2)

      page = fetcher.package_page(owner: "acme", package: "app")

      expect(page.status).to eq(200)
      expect(server.request_count(package_path)).to eq(3)
      expect(waits.size).to eq(2)
      expect(waits).to all(be >= 7).and all(be < 8)
    end

    it "understands Retry-After given as an HTTP date" do
      server.fail_next(package_path, status: 503, retry_after: (Time.now + 30).httpdate)

      fetcher.package_page(owner: "acme", package: "app")

      expect(waits.size).to eq(1)
      expect(waits.first).to be_between(27, 31.5)
    end

    it "backs off exponentially with jitter on 5xx without Retry-After" do
      server.fail_next(package_path, status: 502, times: 3)

      page = fetcher.package_page(owner: "acme", package: "app")

      expect(page.status).to eq(200)
      expect(waits.size).to eq(3)
      waits.each_with_index do |wait, attempt|
        ceiling = 0.5 * (2**attempt)
        expect(wait).to be_between(ceiling / 2, ceiling)
      end
    end

    it "returns the rate-limit page, with its Retry-After, once retries are used up" do
      server.fail_next(package_path, status: 429, retry_after: 5, times: 4)

      page = fetcher.package_page(owner: "acme", package: "app")

      expect(page.status).to eq(429)
      expect(page.body).to eq(fixture("reject-rate-limited.html"))
      expect(page.retry_after).to eq(5.0)
      expect(server.request_count(package_path)).to eq(4)
    end

    it "raises FetchError with the status once retries on a 5xx are used up" do
      server.fail_next(package_path, status: 500, times: 4)

      expect { fetcher.package_page(owner: "acme", package: "app") }
        .to raise_error(StatsTracker::FetchError) { |e| expect(e.status).to eq(500) }
      expect(server.request_count(package_path)).to eq(4)
    end

    context "with max_retries: 0 (the operator requeues by itself)" do
      let(:options) { { max_retries: 0 } }

      it "makes one request, never sleeps, and hands back the 429 page" do
        server.fail_next(package_path, status: 429, retry_after: 60)

        page = fetcher.package_page(owner: "acme", package: "app")

        expect([page.status, page.retry_after, waits, server.request_count]).to eq([429, 60.0, [], 1])
      end
    end

    context "when Retry-After asks for longer than max_retry_wait" do
      let(:options) { { max_retry_wait: 10 } }

      it "does not wait at all and returns the 429 page" do
        server.fail_next(package_path, status: 429, retry_after: 3600)

        page = fetcher.package_page(owner: "acme", package: "app")

        expect([page.status, page.retry_after, waits]).to eq([429, 3600.0, []])
      end

      it "raises FetchError carrying retry_after for a non-HTML 503" do
        server.fail_next(package_path, status: 503, retry_after: 3600)

        expect { fetcher.package_page(owner: "acme", package: "app") }
          .to raise_error(StatsTracker::FetchError) { |e| expect([e.status, e.retry_after]).to eq([503, 3600.0]) }
      end
    end

    it "does not retry other client errors" do
      server.fail_next(package_path, status: 403)

      expect { fetcher.package_page(owner: "acme", package: "app") }
        .to raise_error(StatsTracker::FetchError) { |e| expect(e.status).to eq(403) }
      expect([waits, server.request_count]).to eq([[], 1])
    end
  end

  describe "not found" do
    it "returns GitHub's 404 page for the parser to classify" do
      page = fetcher.package_page(owner: "acme", package: "missing")

      expect(page.status).to eq(404)
      expect(page.body).to eq(fixture("reject-not-found.html"))
      expect(waits).to be_empty
    end

    it "raises FetchError for a 404 that is not an HTML page" do
      server.fail_next(package_path, status: 404, body: "no such thing\n")

      expect { fetcher.package_page(owner: "acme", package: "app") }
        .to raise_error(StatsTracker::FetchError) { |e| expect(e.status).to eq(404) }
    end
  end

  describe "redirects" do
    before { server.serve_package(owner: "acme", package: "new-name", fixture: "package-small-42.html") }

    it "follows a same-origin redirect and reports the final URL" do
      server.serve_redirect(package_path, location: "/orgs/acme/packages/container/package/new-name")

      page = fetcher.package_page(owner: "acme", package: "app")

      expect(page.status).to eq(200)
      expect(page.url).to eq("#{server.base_url}/orgs/acme/packages/container/package/new-name")
      expect(page.body).to eq(fixture("package-small-42.html"))
    end

    it "gives up on a redirect loop" do
      server.serve_redirect("/a", location: "/b", status: 302)
      server.serve_redirect("/b", location: "/a", status: 307)

      expect { fetcher.get("/a") }.to raise_error(StatsTracker::FetchError, /redirects/)
      expect(server.request_count).to eq(described_class::MAX_REDIRECTS + 1)
    end

    context "with a token" do
      let(:options) { { token: "ghp_secret" } }
      let(:elsewhere) { StatsTracker::Testing::PageServer.new(fixtures_dir: GHCR_FIXTURES).start }

      after { elsewhere.stop }

      it "refuses to follow a redirect to another origin, so the token never leaves" do
        elsewhere.serve_package(owner: "acme", package: "app", fixture: "package-small-42.html")
        server.serve_redirect(package_path, location: "#{elsewhere.base_url}#{package_path}")

        expect { fetcher.package_page(owner: "acme", package: "app") }
          .to raise_error(StatsTracker::FetchError, /another origin/)
        expect(elsewhere.request_count).to eq(0)
      end
    end
  end

  describe "transport failures" do
    let(:options) { { read_timeout: 0.3, max_retries: 1 } }

    before { server.serve_package(owner: "acme", package: "app", fixture: "package-small-42.html") }

    it "retries a read timeout" do
      server.delay_next(package_path, seconds: 5)

      page = fetcher.package_page(owner: "acme", package: "app")

      expect(page.status).to eq(200)
      expect(waits.size).to eq(1)
    end

    it "raises FetchError without a status when every attempt times out" do
      server.delay_next(package_path, seconds: 5, times: 2)

      expect { fetcher.package_page(owner: "acme", package: "app") }
        .to raise_error(StatsTracker::FetchError, /ReadTimeout/) { |e| expect(e.status).to be_nil }
    end

    it "raises FetchError when nothing listens" do
      closed = TCPServer.new("127.0.0.1", 0)
      port = closed.addr[1]
      closed.close
      offline = described_class.new(base_url: "http://127.0.0.1:#{port}", sleeper: sleeper, max_retries: 2)

      expect { offline.package_page(owner: "acme", package: "app") }
        .to raise_error(StatsTracker::FetchError, /ECONNREFUSED/)
      expect(waits.size).to eq(2)
    end

    context "with a body cap" do
      let(:options) { { max_body_bytes: 10_000 } }

      it "stops reading an oversized body and raises FetchError" do
        expect { fetcher.package_page(owner: "acme", package: "app") }
          .to raise_error(StatsTracker::FetchError, /exceeds 10000 bytes/)
      end
    end
  end
end
