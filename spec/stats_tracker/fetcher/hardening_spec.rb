# frozen_string_literal: true

require "socket"
require "stats_tracker/fetcher"

# Servers that misbehave below HTTP: one that trickles its answer a byte at a time, one that
# answers a TLS handshake with plain text. Real sockets on 127.0.0.1.
RSpec.describe "StatsTracker::Fetcher against misbehaving servers" do
  def with_raw_server(handler)
    listener = TCPServer.new("127.0.0.1", 0)
    connections = Queue.new
    thread = Thread.new do
      loop do
        client = listener.accept
        connections << client
        Thread.new(client) do |socket|
          handler.call(socket)
        rescue IOError, SystemCallError
          nil
        ensure
          socket.close unless socket.closed?
        end
      end
    rescue IOError
      nil
    end
    yield listener.addr[1], connections
  ensure
    listener&.close
    thread&.join(5)
    thread&.kill
  end

  # Headers at once, then one body byte every 0.2 s: each read is well inside read_timeout,
  # so only a deadline on the whole request ends it.
  trickle = lambda do |socket|
    socket.readpartial(4096)
    socket.write("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000000\r\n\r\n")
    loop do
      socket.write("x")
      sleep 0.2
    end
  end

  it "gives up on a trickling server at the total deadline instead of reading forever" do
    with_raw_server(trickle) do |port, _connections|
      fetcher = StatsTracker::Fetcher.new(base_url: "http://127.0.0.1:#{port}", read_timeout: 5, total_timeout: 1.5,
                                          max_retries: 0)
      outcome = Thread.new do
        fetcher.get("/slow")
      rescue StatsTracker::FetchError => e
        e
      end
      # A bound on failure, not a speed check: without a deadline the thread never ends.
      finished = outcome.join(60)
      fetcher.close

      expect(finished).not_to be_nil, "the fetch was still reading after 60 s"
      expect(outcome.value).to be_a(StatsTracker::FetchError)
      expect(outcome.value.message).to match(/deadline/)
    end
  end

  it "does not retry a TLS failure: it will fail the same way again" do
    plain_text = lambda do |socket|
      socket.readpartial(4096)
      socket.write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    end
    with_raw_server(plain_text) do |port, connections|
      waits = []
      fetcher = StatsTracker::Fetcher.new(base_url: "https://127.0.0.1:#{port}", max_retries: 3,
                                          sleeper: ->(seconds) { waits << seconds })

      expect { fetcher.get("/x") }.to raise_error(StatsTracker::FetchError, /SSL/)
      expect([connections.size, waits]).to eq([1, []])
    end
  end

  it "rejects a token with a control character (a trailing \\r from a Windows file) when it is given" do
    expect { StatsTracker::Fetcher.new(token: "ghp_abc\r") }
      .to raise_error(ArgumentError, /token contains a control character/)
  end
end
