# frozen_string_literal: true

require "rbconfig"
require "socket"

# Teardown guarantees of the harness itself, on clusters of their own (not the shared one).
RSpec.describe StatsTracker::Testing::KubeCluster do
  def alive?(pid)
    Process.kill(0, pid)
    true
  rescue Errno::ESRCH
    false
  end

  def port_free?(port)
    TCPServer.new("127.0.0.1", port).close
    true
  rescue Errno::EADDRINUSE
    false
  end

  it "leaves no process, port or directory behind after stop" do
    cluster = described_class.new.start
    pids = cluster.state.fetch("process_groups")
    ports = [URI(cluster.api_url).port]
    work_dir = cluster.work_dir
    expect(pids.size).to eq(3)
    expect(pids).to all(satisfy { |pid| alive?(pid) })

    cluster.stop

    expect(pids).to all(satisfy { |pid| !alive?(pid) })
    expect(ports).to all(satisfy { |port| port_free?(port) })
    expect(File.exist?(work_dir)).to be(false)
  end

  it "reaps the control plane when the Ruby process that started it is killed with SIGKILL" do
    script = <<~RUBY
      require #{File.expand_path("../../testing/kube_cluster", __dir__).dump}
      cluster = StatsTracker::Testing::KubeCluster.new.start
      puts JSON.generate(cluster.state)
      $stdout.flush
      sleep
    RUBY
    reader, writer = IO.pipe
    parent = Process.spawn(RbConfig.ruby, "-e", script, out: writer)
    writer.close
    state = JSON.parse(reader.gets)
    expect(state["process_groups"]).to all(satisfy { |pid| alive?(pid) })

    Process.kill("KILL", parent)
    Process.wait(parent)

    StatsTracker::Testing::Kube::Wait.until("orphans to be reaped", timeout: 60, interval: 0.2) do
      state["process_groups"].none? { |pid| alive?(pid) } && !File.exist?(state["work_dir"])
    end
    expect(state["process_groups"]).to all(satisfy { |pid| !alive?(pid) })
  ensure
    reader&.close
  end

  it "fails with a clear error naming the build command when the binaries are missing" do
    Dir.mktmpdir do |empty|
      expect { StatsTracker::Testing::Kube::Binaries.locate(env: { "STATS_TRACKER_KUBE_BIN_DIR" => empty }) }
        .to raise_error(StatsTracker::Testing::Kube::MissingBinariesError, /kube-apiserver.*rake kube:build/m)
    end
  end
end
