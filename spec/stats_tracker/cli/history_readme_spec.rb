# frozen_string_literal: true

require "net/http"
require "open3"
require "rbconfig"
require "socket"
require "tmpdir"

# The three commands the README's "Downloads over time" section gives, exactly as written
# (serve on a free port instead of 9292).
RSpec.describe "README: downloads over time" do
  let(:root) { File.expand_path("../../..", __dir__) }

  around do |example|
    Dir.mktmpdir("history-readme-") do |dir|
      @env = { "XDG_DATA_HOME" => dir, "STATS_TRACKER_DATABASE_URL" => nil, "GITHUB_TOKEN" => nil }
      example.run
    end
  end

  def run(*command)
    out, err, status = Open3.capture3(@env, RbConfig.ruby, *command, chdir: root)
    [out, err, status.exitstatus]
  end

  def free_port = StatsTracker::Testing::Kube::FreePort.pick

  it "records two observations from the local page server, prints them, and serves them" do
    _out, err, code = run("bin/history-sample")
    expect([code, err.scan("recorded fluxcd/flux-cli (new total)").size]).to eq([0, 2])

    table, _err, code = run("exe/stats-tracker", "history", "fluxcd/flux-cli")
    expect(code).to eq(0)
    expect(table).to include("fluxcd/flux-cli: 15,755,801 downloads")
    expect(table.lines.grep(/\A  \d{4}-.*15,(699,000|755,801)/).size).to eq(2)

    port = free_port
    pid = Process.spawn(@env, RbConfig.ruby, "exe/stats-tracker", "serve", "--listen", "127.0.0.1:#{port}", chdir: root,
                                                                                                            err: File::NULL)
    begin
      page = nil
      60.times do
        page = Net::HTTP.get_response(URI("http://127.0.0.1:#{port}/packages/fluxcd/flux-cli"))
        break
      rescue SystemCallError
        sleep 0.25
      end
      expect(page&.code).to eq("200")
      expect(page.body.scan('class="point"').size).to eq(2)
    ensure
      Process.kill("TERM", pid)
      Process.wait(pid)
    end
  end
end
