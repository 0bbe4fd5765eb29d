# frozen_string_literal: true

require "fileutils"
require "tmpdir"
require_relative "../fixtures/guests/build"

# Guests that try what a sandboxed parser must never do. Each is denied (the guest sees
# an error and exits non-zero) or stopped (a typed exception), and the process carries on.
RSpec.describe "hostile guests" do
  let(:hostile) { StatsTracker::Wasi::Command.new(GuestBuild.rust("hostile")) }

  around do |example|
    Dir.mktmpdir do |dir|
      @readonly = File.join(dir, "ro")
      @writable = File.join(dir, "rw")
      Dir.mkdir(@readonly)
      Dir.mkdir(@writable)
      File.write(File.join(@readonly, "allowed.txt"), "allowed")
      File.symlink("/etc", File.join(@readonly, "etc-link"))
      example.run
    end
  end

  after do
    # The process is still healthy: the real parser still answers correctly.
    html = File.binread(File.join(GHCR_FIXTURES, "package-small-42.html"))
    expect(StatsTracker::Parser.new.package(html).total_downloads).to eq(42)
  end

  def denied(result)
    expect(result.exit_code).to eq(1)
    expect(result.stdout).to be_empty
    result.stderr
  end

  it "cannot read /etc/passwd when nothing is preopened" do
    expect(denied(hostile.run(args: %w[read /etc/passwd]))).to start_with("denied:")
  end

  it "can read a preopened file (the control for the denials below)" do
    result = hostile.run(args: %w[read /data/allowed.txt], dirs: { "/data" => @readonly })
    expect(result.stdout).to eq("allowed\n")
  end

  it "cannot escape a preopen with .." do
    denied(hostile.run(args: %w[read /data/../../../etc/passwd], dirs: { "/data" => @readonly }))
  end

  it "cannot escape a preopen with .. even when calling path_open directly" do
    result = StatsTracker::Wasi::Command.new(GuestBuild.wat("escape")).run(dirs: { "/data" => @readonly })
    expect(result.exit_code).not_to eq(0) # the WASI errno the host answered with
    expect(result.stdout).to be_empty
  end

  it "cannot escape a preopen with .. to a file that really exists there (path_open directly)" do
    Dir.mktmpdir do |root|
      # escape.wat opens ../../etc/passwd from its preopen: here that names a real file.
      preopen = File.join(root, "a", "b")
      FileUtils.mkdir_p([preopen, File.join(root, "etc")])
      File.write(File.join(root, "etc", "passwd"), "outside-secret")
      expect(File.read(File.join(preopen, "../../etc/passwd"))).to eq("outside-secret") # the host sees it
      escape = StatsTracker::Wasi::Command.new(GuestBuild.wat("escape"))
      result = escape.run(dirs: { "/data" => preopen })
      expect(result.exit_code).not_to eq(0)
      expect(result.stdout).not_to include("outside-secret")
    end
  end

  it "cannot escape a preopen through a symlink pointing outside it" do
    denied(hostile.run(args: %w[read /data/etc-link/passwd], dirs: { "/data" => @readonly }))
  end

  it "cannot write into a read-only preopen" do
    denied(hostile.run(args: %w[write /data/planted.txt], dirs: { "/data" => @readonly }))
    expect(File).not_to exist(File.join(@readonly, "planted.txt"))
  end

  it "can write into a preopen given writable: true (the control)" do
    hostile.run(args: %w[write /data/planted.txt], dirs: { "/data" => @writable }, writable: true)
    expect(File.read(File.join(@writable, "planted.txt"))).to eq("pwned")
  end

  it "sees none of the host environment" do
    ENV["STATS_TRACKER_SECRET"] = "hunter2"
    expect(denied(hostile.run(args: %w[env]))).to include("no environment")
  ensure
    ENV.delete("STATS_TRACKER_SECRET")
  end

  it "cannot open network connections" do
    server = TCPServer.new("127.0.0.1", 0)
    denied(hostile.run(args: ["connect", "127.0.0.1:#{server.addr[1]}"]))
    expect(server.accept_nonblock(exception: false)).to eq(:wait_readable)
  ensure
    server&.close
  end

  it "is stopped with TimeoutError when it loops forever" do
    expect { hostile.run(args: %w[spin], timeout: 0.3) }.to raise_error(StatsTracker::TimeoutError)
    expect { StatsTracker::Wasi::Command.new(GuestBuild.wat("spin")).run(timeout: 0.3) }
      .to raise_error(StatsTracker::TimeoutError)
  end

  it "is stopped with ResourceLimitError when it grows memory without bound" do
    expect { hostile.run(args: %w[grow], memory_limit: 32 * 1024 * 1024) }
      .to raise_error(StatsTracker::ResourceLimitError, /memory_limit/)
    expect { StatsTracker::Wasi::Command.new(GuestBuild.wat("grow")).run(memory_limit: 8 * 1024 * 1024) }
      .to raise_error(StatsTracker::ResourceLimitError, /memory_limit/)
  end

  it "is refused with ResourceLimitError when its initial memory is above the limit" do
    expect { StatsTracker::Wasi::Command.new(GuestBuild.wat("huge_initial_memory")).run(memory_limit: 64 * 1024 * 1024) }
      .to raise_error(StatsTracker::ResourceLimitError)
  end

  it "is stopped with ResourceLimitError when it floods stdout, even if it ignores write errors" do
    expect { hostile.run(args: %w[flood], output_limit: 64 * 1024) }
      .to raise_error(StatsTracker::ResourceLimitError, /output_limit/)
    expect { StatsTracker::Wasi::Command.new(GuestBuild.wat("flood")).run(output_limit: 64 * 1024) }
      .to raise_error(StatsTracker::ResourceLimitError, /output_limit/)
  end
end
