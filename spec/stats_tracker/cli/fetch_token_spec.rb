# frozen_string_literal: true

require "open3"
require "rbconfig"

# Where the CLI sends GITHUB_TOKEN: to https URLs, or to a host the user names with
# --token-host; never to a plain-http --base-url by accident.
RSpec.describe "stats-tracker fetch and GITHUB_TOKEN" do
  let(:exe) { File.expand_path("../../../exe/stats-tracker", __dir__) }

  let(:server) { StatsTracker::Testing::PageServer.new(fixtures_dir: GHCR_FIXTURES).start }

  before { server.serve_package(owner: "acme", package: "app", fixture: "package-small-42.html") }

  after { server.stop }

  def fetch(*args, token:)
    out, err, status = Open3.capture3({ "GITHUB_TOKEN" => token }, RbConfig.ruby, exe, "fetch", "--base-url",
                                      server.base_url, "acme/app", *args)
    [out, err, status.exitstatus]
  end

  it "does not send the token to a plain-http base URL, and says so" do
    _out, err, code = fetch(token: "ghp_secret")

    expect(code).to eq(0)
    expect(server.requests.last[:authorization]).to be_nil
    expect(err).to include("GITHUB_TOKEN not sent").and include("--token-host")
    expect(err).not_to include("ghp_secret")
  end

  it "sends it to a host named with --token-host" do
    _out, err, code = fetch("--token-host", "127.0.0.1", token: "ghp_secret")

    expect([code, err]).to eq([0, ""])
    expect(server.requests.last[:authorization]).to eq("Bearer ghp_secret")
  end

  it "exits 2 with one clear line for a token ending in \\r, before any request" do
    out, err, code = fetch("--token-host", "127.0.0.1", token: "ghp_secret\r")

    expect([code, out]).to eq([2, ""])
    expect(err).to match(/\Astats-tracker: GITHUB_TOKEN contains a control character/)
    expect(err).not_to include(".rb:") # no backtrace
    expect(server.request_count).to eq(0)
  end

  it "accepts --deadline and rejects a non-positive one" do
    expect(fetch("--deadline", "30", token: nil)[2]).to eq(0)
    _out, err, code = fetch("--deadline", "0", token: nil)
    expect([code, err]).to match([2, /--deadline must be > 0/])
  end

  { "--timeout" => ["0", "> 0"], "--retries" => ["-1", ">= 0"], "--max-pages" => ["0", ">= 1"] }.each do |switch, (bad, rule)|
    it "refuses #{switch} #{bad} as a usage error, before any request" do
      out, err, code = fetch(switch, bad, token: nil)
      expect([code, out, err]).to match([2, "", /\Astats-tracker: #{switch} must be #{Regexp.escape(rule)}/])
      expect(server.request_count).to eq(0)
    end
  end
end
