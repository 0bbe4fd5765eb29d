# frozen_string_literal: true

require "socket"
require "json"
require "stats_tracker/operator/controller/watch_stream"
require "stats_tracker/operator/kube/connection"

# Fault injection a real API server will not produce on demand: a raw socket server speaking
# just enough HTTP/1.1 to stream watch lines, then misbehaving in a chosen way.
RSpec.describe StatsTracker::Operator::Controller::WatchStream do
  let(:server) { TCPServer.new("127.0.0.1", 0) }
  let(:connection) { StatsTracker::Operator::Kube::Connection.new(server: "http://127.0.0.1:#{server.addr[1]}", auth_options: { bearer_token: "t0k" }) }
  let(:url) { URI("http://127.0.0.1:#{server.addr[1]}/apis/x/v1/leaves?watch=true&allowWatchBookmarks=true&timeoutSeconds=5") }
  let(:requests) { Queue.new }

  after { server.close }

  def notice(type, rv)
    JSON.generate(type: type, object: { metadata: { name: "a", resourceVersion: rv } }) + "\n"
  end

  # Serves one watch request: writes `lines`, then ends the chunked body properly (:close),
  # drops the connection (:drop) or goes silent (:hang).
  def serve(lines, ending: :close)
    Thread.new do
      client = server.accept
      head = +""
      head << client.gets until head.end_with?("\r\n\r\n")
      requests << head
      client.write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
      lines.each { |l| client.write("#{l.bytesize.to_s(16)}\r\n#{l}\r\n") }
      client.flush
      case ending
      when :close then client.write("0\r\n\r\n")
      when :hang then sleep 5
      end
      client.close
    rescue IOError, SystemCallError
      nil
    ensure
      client&.close unless client&.closed?
    end
  end

  it "sends the bookmark and timeout parameters and the bearer token, and yields each notice" do
    serve([notice("ADDED", "1"), notice("BOOKMARK", "2")[0, 20], notice("BOOKMARK", "2")[20..]])
    seen = []
    described_class.new(url: url, connection: connection).each { |n| seen << [n[:type], n.dig(:object, :metadata, :resourceVersion)] }
    expect(seen).to eq([%w[ADDED 1], %w[BOOKMARK 2]])
    head = requests.pop
    expect(head).to include("allowWatchBookmarks=true", "timeoutSeconds=5", "Authorization: Bearer t0k")
  end

  it "returns normally when the server ends the watch (the informer then resumes from the last version)" do
    serve([notice("MODIFIED", "7")])
    expect { described_class.new(url: url, connection: connection).each { |_| next } }.not_to raise_error
  end

  it "raises Failed when the connection drops mid-stream, without re-sending the request" do
    serve([notice("ADDED", "1")], ending: :drop)
    expect { described_class.new(url: url, connection: connection, read_timeout: 5).each { |_| next } }
      .to raise_error(described_class::Failed)
    expect(requests.size).to eq(1)
  end

  it "raises Gone for an ERROR 410 notice instead of passing it on as an object" do
    gone = JSON.generate(type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired", message: "too old resource version" })
    serve([notice("ADDED", "1"), "#{gone}\n"])
    seen = []
    expect { described_class.new(url: url, connection: connection).each { |n| seen << n } }
      .to raise_error(described_class::Gone, /too old/)
    expect(seen.size).to eq(1)
  end

  it "raises Failed when the stream goes silent past the read timeout (a half-open connection)" do
    serve([notice("ADDED", "1")], ending: :hang)
    expect { described_class.new(url: url, connection: connection, read_timeout: 0.5).each { |_| next } }
      .to raise_error(described_class::Failed, /Net::ReadTimeout/)
  end

  it "is stopped from another thread even while blocked on a silent stream" do
    serve([notice("ADDED", "1")], ending: :hang)
    stream = described_class.new(url: url, connection: connection, read_timeout: 60)
    got = Queue.new
    reader = Thread.new { stream.each { |n| got << n } }
    got.pop # the reader is now blocked waiting for more
    stream.finish
    expect(reader.join(5)).not_to be_nil
    expect(reader.value).to be_nil
  end
end
