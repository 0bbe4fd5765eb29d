# frozen_string_literal: true

require "json"
require "open3"
require "rbconfig"
require "stats_tracker/cli"

# The installed command, run as a subprocess the way a person or a script runs it.
RSpec.describe "exe/stats-tracker" do
  exe = File.expand_path("../../exe/stats-tracker", __dir__)
  expected = JSON.parse(File.read(File.join(GHCR_FIXTURES, "expected.json")))

  define_method(:run_cli) do |*args, stdin_data: "", env: {}|
    out, err, status = Open3.capture3({ "GITHUB_TOKEN" => nil }.merge(env), RbConfig.ruby, exe, *args,
                                      stdin_data: stdin_data)
    [out, err, status.exitstatus]
  end

  def fixture_path(name)
    File.join(GHCR_FIXTURES, name)
  end

  describe "parse" do
    expected.each do |file, want|
      kind = want["kind"] == "error" ? want["page"] : want["kind"]

      it "prints expected.json's answer for #{file}" do
        out, err, code = run_cli("parse", "--kind", kind, fixture_path(file))

        expect(JSON.parse(out)).to eq(want)
        if want["kind"] == "error"
          expect(code).to eq(1)
          expect(err).to include(want["reason"])
        else
          expect([code, err]).to eq([0, ""])
        end
      end
    end

    it "reads the page from stdin with -" do
      out, _err, code = run_cli("parse", "-", stdin_data: File.binread(fixture_path("package-12k-lowercase.html")))

      expect([code, JSON.parse(out)]).to eq([0, expected.fetch("package-12k-lowercase.html")])
    end

    it "indents with --pretty without changing the data" do
      out, _err, code = run_cli("parse", "--pretty", "--kind", "listing", fixture_path("listing-fluxcd-page2.html"))

      expect(out.lines.size).to be > 10
      expect([code, JSON.parse(out)]).to eq([0, expected.fetch("listing-fluxcd-page2.html")])
    end

    it "exits 3 with a message and no stdout when the file cannot be read" do
      out, err, code = run_cli("parse", fixture_path("no-such-page.html"))

      expect([code, out]).to eq([3, ""])
      expect(err).to match(/stats-tracker: .*no-such-page\.html/)
    end

    it "exits 3 for a directory" do
      _out, err, code = run_cli("parse", GHCR_FIXTURES)

      expect(code).to eq(3)
      expect(err).to match(/directory/i)
    end

    [
      [%w[parse --kind tags x.html], /invalid argument: --kind tags/],
      [%w[parse --frobnicate x.html], /invalid option: --frobnicate/],
      [%w[parse a.html b.html], /one FILE/],
      [%w[launch], /unknown command "launch"/],
      [[], /no command/]
    ].each do |args, message|
      it "exits 2 for `#{args.join(' ')}`" do
        out, err, code = run_cli(*args)

        expect([code, out]).to eq([2, ""])
        expect(err).to match(message).and include("--help")
      end
    end
  end

  describe "--help and --version" do
    it "explains the commands and every exit code" do
      out, _err, code = run_cli("--help")

      expect(code).to eq(0)
      expect(out).to include("stats-tracker parse", "stats-tracker fetch", "Exit codes")
      StatsTracker::CLI::ExitCodes::DESCRIPTIONS.each_key { |exit_code| expect(out).to match(/^\s+#{exit_code}\s/) }
    end

    it "lists a command's options" do
      out, _err, code = run_cli("fetch", "--help")

      expect(code).to eq(0)
      expect(out).to include("--listing OWNER", "--base-url URL", "--retries N", "--timeout SECONDS", "GITHUB_TOKEN")
    end

    it "prints the gem and the embedded wasmtime versions" do
      out, _err, code = run_cli("--version")

      expect(code).to eq(0)
      expect(out).to eq("stats-tracker #{StatsTracker::VERSION} (wasmtime #{StatsTracker.wasmtime_version}, " \
                        "ruby #{RUBY_VERSION})\n")
    end
  end

  describe "fetch" do
    let(:server) { StatsTracker::Testing::PageServer.new(fixtures_dir: GHCR_FIXTURES).start }

    after { server.stop }

    def fetch(*args, env: {})
      run_cli("fetch", "--base-url", server.base_url, *args, env: env)
    end

    it "fetches and parses an org package page, sending GITHUB_TOKEN as a Bearer token to --token-host" do
      server.serve_package(owner: "northwind", package: "edge-proxy", fixture: "package-mid-era-multiline.html")

      out, err, code = fetch("northwind/edge-proxy", "--token-host", "127.0.0.1", env: { "GITHUB_TOKEN" => "ghp_cli" })

      expect([code, err]).to eq([0, ""])
      expect(JSON.parse(out)).to eq(expected.fetch("package-mid-era-multiline.html"))
      expect(server.requests.last).to include(path: "/orgs/northwind/packages/container/package/edge-proxy",
                                              authorization: "Bearer ghp_cli")
    end

    it "fetches a user-owned package with a slash in its name" do
      server.serve_package(owner: "jdoe", package: "charts/tool", fixture: "package-user-logged-in.html", owner_type: :user)

      out, _err, code = fetch("--user", "jdoe/charts/tool")

      expect([code, JSON.parse(out)]).to eq([0, expected.fetch("package-user-logged-in.html")])
      expect(server.requests.last[:path]).to eq("/users/jdoe/packages/container/package/charts%2Ftool")
    end

    it "reports a count that changed on the server" do
      server.serve_package(owner: "acme", package: "app", html: StatsTracker::Testing::PageServer.package_html(total: 7_654_321))

      out, _err, code = fetch("acme/app")

      expect([code, JSON.parse(out)["total_downloads"]]).to eq([0, 7_654_321])
    end

    it "follows all three listing pages into one list" do
      server.serve_listing(owner: "fluxcd", pages: %w[listing-fluxcd-page1.html listing-fluxcd-page2.html
                                                      listing-fluxcd-page3.html])

      out, err, code = fetch("--listing", "fluxcd")

      all = %w[listing-fluxcd-page1.html listing-fluxcd-page2.html listing-fluxcd-page3.html]
            .flat_map { |page| expected.fetch(page)["packages"] }
      expect([code, err]).to eq([0, ""]) # stderr is not a terminal here: no progress
      expect(JSON.parse(out)).to eq("kind" => "listing", "packages" => all, "next_page" => nil)
      expect(server.requests.map { |r| r[:path] }).to eq((1..3).map { |n| "/orgs/fluxcd/packages?page=#{n}" })
    end

    it "stops at --max-pages and says where to go on" do
      server.serve_listing(owner: "fluxcd", pages: %w[listing-fluxcd-page1.html listing-fluxcd-page2.html
                                                      listing-fluxcd-page3.html])

      out, err, code = fetch("--listing", "fluxcd", "--max-pages", "2")

      expect(code).to eq(0)
      expect(JSON.parse(out)).to include("next_page" => 3)
      expect(JSON.parse(out)["packages"].size).to eq(20)
      expect(err).to include("stopped after 2 pages")
    end

    it "fails with exit 4 when a listing page links back, printing no partial list" do
      server.serve_listing(owner: "fluxcd", pages: %w[listing-fluxcd-page1.html listing-fluxcd-page2.html
                                                      listing-fluxcd-page2.html])

      out, err, code = fetch("--listing", "fluxcd")

      expect([code, out]).to eq([4, ""])
      expect(err).to include("listing page 3 links back to page 3")
    end

    it "keeps only one repository's packages with --repo" do
      server.serve_listing(owner: "fluxcd", pages: %w[listing-fluxcd-page1.html listing-fluxcd-page2.html
                                                      listing-fluxcd-page3.html])

      out, _err, code = fetch("--listing", "fluxcd", "--repo", "fluxcd/flagger")

      expect(code).to eq(0)
      expect(JSON.parse(out)["packages"].map { |p| p["name"] }).to eq(%w[flagger charts/flagger flagger-loadtester])
    end

    it "follows versions pages until a page past the end" do
      server.serve_versions(owner: "northwind-labs", package: "edge-proxy",
                            pages: %w[versions-tagged-2023.html versions-tagged-page2.html])

      out, _err, code = fetch("--versions", "northwind-labs/edge-proxy")

      both = expected.fetch("versions-tagged-2023.html")["versions"] + expected.fetch("versions-tagged-page2.html")["versions"]
      expect([code, JSON.parse(out)]).to eq([0, { "kind" => "versions", "versions" => both }])
      expect(server.request_count("/orgs/northwind-labs/packages/container/edge-proxy/versions")).to eq(3)
    end

    it "retries a 429 after its Retry-After and succeeds" do
      server.serve_package(owner: "acme", package: "app", fixture: "package-small-42.html")
      server.fail_next(server.package_path("acme", "app"), status: 429, retry_after: 1)

      out, _err, code = fetch("acme/app")

      expect([code, JSON.parse(out)]).to eq([0, expected.fetch("package-small-42.html")])
      expect(server.requests.map { |r| r[:status] }).to eq([429, 200])
    end

    it "exits 1 with reason rate_limited when the rate limit outlasts the retries" do
      server.serve_package(owner: "acme", package: "app", fixture: "package-small-42.html")
      server.fail_next(server.package_path("acme", "app"), status: 429, retry_after: 30)

      out, err, code = fetch("acme/app", "--retries", "0")

      expect(code).to eq(1)
      expect(JSON.parse(out)).to eq("kind" => "error", "reason" => "rate_limited", "page" => "package")
      expect(err).to include("rate_limited")
    end

    it "exits 1 with reason not_found for a package GitHub does not have" do
      out, _err, code = fetch("acme/missing")

      expect([code, JSON.parse(out)]).to eq([1, { "kind" => "error", "reason" => "not_found", "page" => "package" }])
    end

    it "exits 4 when the server keeps failing" do
      server.fail_next("/orgs/acme", status: 500, times: 10)

      out, err, code = fetch("acme/app", "--retries", "0")

      expect([code, out]).to eq([4, ""])
      expect(err).to include("fetch failed", "HTTP 500")
    end

    it "exits 4 when the server is too slow for --timeout" do
      server.serve_package(owner: "acme", package: "app", fixture: "package-small-42.html")
      server.delay_next(server.package_path("acme", "app"), seconds: 10)

      _out, err, code = fetch("acme/app", "--timeout", "0.5", "--retries", "0")

      expect(code).to eq(4)
      expect(err).to include("ReadTimeout")
    end

    it "exits 4 when nothing listens at --base-url" do
      port = server.port
      server.stop

      _out, err, code = run_cli("fetch", "--base-url", "http://127.0.0.1:#{port}", "--retries", "0", "acme/app")

      expect(code).to eq(4)
      expect(err).to include("ECONNREFUSED")
    end

    [
      [%w[fetch acme], %r{OWNER/PACKAGE}],
      [%w[fetch --listing fluxcd acme/app], %r{no OWNER/PACKAGE}],
      [%w[fetch --repo fluxcd/flagger acme/app], /only applies to --listing/],
      [%w[fetch --retries -1 acme/app], /--retries/],
      [%w[fetch --base-url ftp://x acme/app], /http/]
    ].each do |args, message|
      it "exits 2 for `#{args.join(' ')}`" do
        _out, err, code = run_cli(*args)

        expect(code).to eq(2)
        expect(err).to match(message)
      end
    end
  end
end
