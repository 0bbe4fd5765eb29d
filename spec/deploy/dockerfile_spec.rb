# frozen_string_literal: true

require "json"
require "open3"
require_relative "support/manifests"

# operator/Dockerfile cannot be built here (no Docker engine, no registry for debian images).
# It is parsed and linted with BuildKit's own Dockerfile front end instead (the code `docker
# build` runs first; built from the Go module proxy by support/build_dockerfile_check.sh), and
# its runtime stage is checked against the Deployment and the debootstrap-built image's recipe.
RSpec.describe "operator/Dockerfile" do
  root = File.expand_path("../..", __dir__)

  before(:context) do
    bin, err, status = Open3.capture3(File.join(__dir__, "support", "build_dockerfile_check.sh"))
    raise "building dockerfile_check failed:\n#{err}" unless status.success?

    out, err, status = Open3.capture3(bin.strip, File.join(root, "operator", "Dockerfile"))
    raise "BuildKit rejected operator/Dockerfile:\n#{err}" unless status.success?

    @parsed = JSON.parse(out)
  end

  let(:builder) { @parsed["stages"].find { |s| s["name"] == "builder" } }
  let(:runtime) { @parsed["stages"].last }
  let(:deployment) { StatsTracker::Testing::Manifests.build("base").find("Deployment", "stats-tracker-operator") }

  def last(stage, name)
    stage["commands"].select { |c| c["name"] == name }.last
  end

  def run_lines(stage)
    stage["commands"].select { |c| c["name"] == "RUN" }.map { |c| c["args"].join(" ") }
  end

  it "parses with no BuildKit lint warnings" do
    expect(@parsed["warnings"]).to eq([])
  end

  it "compiles in a builder stage and ships only its staged install to a slim runtime of the same release" do
    expect(@parsed["stages"].size).to eq(2)
    expect(builder["base"]).to eq(runtime["base"]).and end_with("-slim")
    copies = runtime["commands"].select { |c| c["name"] == "COPY" }
    expect(copies.map { |c| c["args"].first }).to include("from=builder")
    expect(run_lines(builder).join).to include("rake gem").and include("gem install")
  end

  it "installs no compiler, cargo or headers in the runtime stage, only runtime-packages.txt" do
    runtime_runs = run_lines(runtime).join("\n")
    %w[build-essential clang ruby-dev cargo rustup libclang-dev pkg-config].each do |tool|
      expect(runtime_runs).not_to include(tool)
    end
    expect(runtime_runs).to include("/tmp/runtime-packages.txt")
  end

  it "runs as the Deployment's fixed non-root UID/GID" do
    pod_security = deployment.dig("spec", "template", "spec", "securityContext")
    expect(last(runtime, "USER")["args"]).to eq(["#{pod_security['runAsUser']}:#{pod_security['runAsGroup']}"])
    expect(pod_security["runAsUser"]).to be > 0
  end

  it "starts the operator in exec form so SIGTERM reaches ruby, and says SIGTERM stops it" do
    entrypoint = last(runtime, "ENTRYPOINT")
    expect(entrypoint["shell"]).to be(false)
    expect(entrypoint["args"]).to eq(["/usr/bin/ruby", "operator/operator.rb"])
    expect(last(runtime, "WORKDIR")["args"]).to eq(["/opt/stats_tracker"])
    expect(last(runtime, "STOPSIGNAL")["args"]).to eq(["SIGTERM"])
  end

  it "exposes the port the Deployment probes and points the module cache at the Deployment's volume" do
    container = deployment.dig("spec", "template", "spec", "containers").first
    expect(last(runtime, "EXPOSE")["args"]).to eq([container["ports"].first["containerPort"].to_s])
    env = runtime["commands"].select { |c| c["name"] == "ENV" }.flat_map { |c| c["args"] }
    cache = env.find { |kv| kv.start_with?("STATS_TRACKER_CACHE_DIR=") }.split("=", 2).last
    expect(container["volumeMounts"].map { |m| m["mountPath"] }).to include(cache)
  end
end
