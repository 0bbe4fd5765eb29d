# frozen_string_literal: true

require "json"
require "pty"
require "rbconfig"

RSpec.describe "stats-tracker progress on a terminal" do
  let(:server) { StatsTracker::Testing::PageServer.new(fixtures_dir: GHCR_FIXTURES).start }
  let(:exe) { File.expand_path("../../../exe/stats-tracker", __dir__) }

  after { server.stop }

  it "shows which listing page it is on when stderr is a terminal, and keeps stdout clean" do
    server.serve_listing(owner: "fluxcd", pages: %w[listing-fluxcd-page1.html listing-fluxcd-page2.html
                                                    listing-fluxcd-page3.html])
    reader, writer = IO.pipe
    PTY.open do |terminal, tty|
      pid = Process.spawn(RbConfig.ruby, exe, "fetch", "--listing", "fluxcd", "--base-url", server.base_url,
                          out: writer, err: tty)
      writer.close
      tty.close
      stdout = reader.read
      _, status = Process.wait2(pid)
      shown = read_all(terminal)

      expect(status.exitstatus).to eq(0)
      expect(shown).to include("fluxcd: listing page 1", "listing page 2 (10 packages so far)",
                               "listing page 3 (20 packages so far)")
      expect(JSON.parse(stdout)["packages"].size).to eq(22)
    end
  end

  def read_all(terminal)
    text = +""
    loop { text << terminal.read_nonblock(4096) }
  rescue IO::WaitReadable, EOFError, Errno::EIO
    text
  end
end
