# frozen_string_literal: true

require "socket"
require "stats_tracker/operator"
require "stats_tracker/operator/parser_source/artifact_download"

# Over a real socket, against a server that stores and serves archives as source-controller does.
RSpec.describe StatsTracker::Operator::ParserSource::ArtifactDownload do
  let(:server) { StatsTracker::Testing::ArtifactServer.new.start }
  let(:component) { File.binread(StatsTracker::Parser::BUNDLED_COMPONENT) }
  let(:download) { described_class.new(timeout: 10) }
  let(:refusal) { StatsTracker::Operator::ParserSource::Refusal }

  after { server.stop }

  def publish(files) = server.publish(namespace: "ops", name: "parser", files: files)

  it "returns the component of an archive whose sha256 is the one status.artifact states" do
    artifact = publish("ghcr_parser.wasm" => component, "README.md" => "notes")
    expect(download.fetch(url: artifact[:url], digest: artifact[:digest])).to eq(component)
  end

  it "refuses an archive whose digest differs from status.artifact.digest, before reading it" do
    artifact = publish("ghcr_parser.wasm" => component)
    other = "sha256:#{"0" * 64}"
    expect { download.fetch(url: artifact[:url], digest: other) }
      .to raise_error(refusal) { |e| expect([e.reason, e.message]).to match(["DigestMismatch", /status says #{other}/]) }
  end

  it "refuses a digest it cannot check" do
    artifact = publish("ghcr_parser.wasm" => component)
    expect { download.fetch(url: artifact[:url], digest: "md5:abc") }
      .to raise_error(refusal) { |e| expect(e.reason).to eq("DigestMismatch") }
  end

  it "refuses an archive without ghcr_parser.wasm at its top level, and one that is not tar+gzip" do
    nested = publish("dir/ghcr_parser.wasm" => component)
    expect { download.fetch(url: nested[:url], digest: nested[:digest]) }
      .to raise_error(refusal) { |e| expect([e.reason, e.message]).to match(["BadArtifact", /no ghcr_parser.wasm/]) }
    plain = "not an archive"
    url = server.put("/ocirepository/ops/parser/plain.tar.gz", plain)
    expect { download.fetch(url: url, digest: "sha256:#{Digest::SHA256.hexdigest(plain)}") }
      .to raise_error(refusal) { |e| expect(e.reason).to eq("BadArtifact") }
  end

  it "says a download failed (transient) for a 404, a refused connection and an oversized archive" do
    expect { download.fetch(url: "#{server.base_url}/ocirepository/ops/parser/gone.tar.gz", digest: "sha256:#{"1" * 64}") }
      .to raise_error(refusal) { |e| expect([e.reason, e.transient?, e.message]).to match(["DownloadFailed", true, /HTTP 404/]) }
    port = TCPServer.open("127.0.0.1", 0) { |s| s.addr[1] }
    expect { download.fetch(url: "http://127.0.0.1:#{port}/x.tar.gz", digest: "sha256:#{"1" * 64}") }
      .to raise_error(refusal) { |e| expect(e.reason).to eq("DownloadFailed") }
    artifact = publish("ghcr_parser.wasm" => component)
    small = described_class.new(timeout: 10, max_archive_bytes: 1024)
    expect { small.fetch(url: artifact[:url], digest: artifact[:digest]) }
      .to raise_error(refusal) { |e| expect([e.reason, e.message]).to match(["DownloadFailed", /exceeds 1024 bytes/]) }
  end
end
