# frozen_string_literal: true

require "open3"
require "tmpdir"
require_relative "../../rakelib/release/signer"

# How `rake release:publish SIGN_KEY=…` calls cosign, and that a bad key stops it before anything
# is built or pushed. The signing itself, against a real registry and verified by the real
# source-controller, is a counted check of bin/e2e.
RSpec.describe Release::Signer do
  root = File.expand_path("../..", __dir__)
  digest = "sha256:#{"ab" * 32}"

  let(:key) { File.join(Dir.mktmpdir("signer-"), "cosign.key").tap { |f| File.write(f, "not read here") } }

  it "signs by digest, offline: no transparency log, no signing config" do
    argv = described_class.new(key: key, cosign: "/opt/cosign").command("reg.example:5000/app@#{digest}")
    expect(argv).to eq(["/opt/cosign", "sign", "--key", key, "--use-signing-config=false", "--tlog-upload=false",
                        "-y", "reg.example:5000/app@#{digest}"])
  end

  it "allows a plain-HTTP registry only when told it is one" do
    argv = described_class.new(key: key, insecure: true).command("10.0.0.1:5000/app@#{digest}")
    expect(argv).to include("--allow-http-registry", "--allow-insecure-registry")
  end

  it "refuses to sign a tag, which can move between the push and the signature" do
    expect { described_class.new(key: key).command("reg.example/app:v1") }.to raise_error(ArgumentError, /digest, not a tag/)
  end

  it "names a missing binary instead of crashing" do
    signer = described_class.new(key: key, cosign: File.join(Dir.mktmpdir, "no-cosign"))
    expect { signer.sign("reg.example/app@#{digest}") }.to raise_error(Release::SignError, /COSIGN= names the binary/)
  end

  it "stops rake release:publish on a missing key before anything is built or pushed" do
    env = { "REGISTRY" => "127.0.0.1:9", "SIGN_KEY" => "/nonexistent/cosign.key" }
    out, status = Open3.capture2e(env, "bundle", "exec", "rake", "--trace", "release:publish", chdir: root)
    expect(status).not_to be_success
    expect(out).to include("SIGN_KEY=/nonexistent/cosign.key: no such file")
    expect(out).not_to include("Invoke image:build")
  end
end
