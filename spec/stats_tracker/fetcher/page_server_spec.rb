# frozen_string_literal: true

require "net/http"

# The local GitHub stand-in the fetcher specs, `rake demo` and the benchmarks rely on.
RSpec.describe StatsTracker::Testing::PageServer do
  describe ".package_html" do
    let(:parser) { StatsTracker::Parser.new }

    it "makes a real-sized page whose count the parser reads back" do
      html = described_class.package_html(total: 123_456_789_012)
      original = File.binread(File.join(GHCR_FIXTURES, "package-small-42.html"))

      expect(parser.package(html).total_downloads).to eq(123_456_789_012)
      expect(html.bytesize).to be_within(64).of(original.bytesize)
      expect(html).to include(">123,456,789,012</h3>")
    end

    it "keeps everything else of the page as it was" do
      html = described_class.package_html(total: 5)
      original = parser.package(File.binread(File.join(GHCR_FIXTURES, "package-small-42.html")))

      expect(parser.package(html).to_h).to eq(original.to_h.merge("total_downloads" => 5))
    end

    it "works from other package fixtures, leaving decoy labels in scripts alone" do
      html = described_class.package_html(total: 77, fixture: "package-script-decoy.html")

      expect(parser.package(html).total_downloads).to eq(77)
    end

    it "refuses a page without the label" do
      expect { described_class.package_html(total: 1, fixture: "listing-empty.html") }
        .to raise_error(ArgumentError, /Total downloads/)
    end
  end

  describe "serving" do
    subject(:server) { described_class.new(fixtures_dir: GHCR_FIXTURES).start }

    after { server.stop }

    def get(path, headers = {})
      Net::HTTP.start("127.0.0.1", server.port) { |http| http.get(path, headers) }
    end

    it "answers unknown paths with GitHub's 404 page and logs every request" do
      response = get("/orgs/nobody/packages/container/package/x")

      expect(response.code).to eq("404")
      expect(response.body).to eq(File.binread(File.join(GHCR_FIXTURES, "reject-not-found.html")))
      expect(server.requests).to contain_exactly(include(method: "GET", status: 404))
    end

    it "uses each injected failure the given number of times, then serves the page again" do
      server.serve_package(owner: "acme", package: "app", fixture: "package-small-42.html")
      server.fail_next("/orgs/acme/", status: 429, retry_after: 9, times: 2)

      responses = Array.new(3) { get("/orgs/acme/packages/container/package/app") }

      expect(responses.map(&:code)).to eq(%w[429 429 200])
      expect(responses.first["Retry-After"]).to eq("9")
      expect(responses.first.body).to eq(File.binread(File.join(GHCR_FIXTURES, "reject-rate-limited.html")))
    end

    it "tells listing pages apart by their page parameter, whatever else the query holds" do
      server.serve_listing(owner: "fluxcd", pages: %w[listing-fluxcd-page1.html listing-fluxcd-page2.html])

      second = get("/orgs/fluxcd/packages?page=2&per_page=10&visibility=public")

      expect(second.body).to eq(File.binread(File.join(GHCR_FIXTURES, "listing-fluxcd-page2.html")))
      expect(get("/orgs/fluxcd/packages?page=3").code).to eq("404")
    end

    it "stops promptly even while a delayed response is pending" do
      server.serve_package(owner: "acme", package: "app", fixture: "package-small-42.html")
      server.delay_next("/orgs/acme/", seconds: 600)
      client = Thread.new do
        Net::HTTP.start("127.0.0.1", server.port, read_timeout: 600) { |http| http.get("/orgs/acme/packages/container/package/app") }
      rescue IOError, SystemCallError
        nil # the server went away mid-request, which is what stopping means
      end
      Thread.pass until server.in_flight == 1

      server.stop

      expect(client.join(30)).not_to be_nil # a stop that waited out the delay would leave the client hanging
    end
  end
end
