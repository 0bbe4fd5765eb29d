# frozen_string_literal: true

require "json"
require "open3"
require_relative "support/image_recipe"
require_relative "support/manifests"

# operator/Dockerfile cannot be built here (no Docker engine, no registry for debian images).
# It is parsed and linted with BuildKit's own Dockerfile front end instead (the code `docker
# build` runs first; built from the Go module proxy by support/build_dockerfile_check.sh), and
# its runtime stage is checked against the Deployment and against operator/image/build.sh, the
# recipe that really builds the image here: same platform gem, same install, same image config.
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

  let(:recipe) { StatsTracker::Testing::ImageRecipe.new }

  def env_of(stage)
    stage["commands"].select { |c| c["name"] == "ENV" }.flat_map { |c| c["args"] }.to_h { |kv| kv.split("=", 2) }
  end

  it "installs build.sh's platform gem in a builder stage and ships only its staged install to a slim runtime" do
    expect(@parsed["stages"].size).to eq(2)
    expect(builder["base"]).to eq(runtime["base"]).and end_with("-slim")
    copies = runtime["commands"].select { |c| c["name"] == "COPY" }
    expect(copies.map { |c| c["args"].first }).to include("from=builder")
    gem_copy = builder["commands"].find { |c| c["name"] == "COPY" }
    expect(gem_copy["args"]).to include("pkg/stats_tracker-*-#{recipe.platform}.gem")
  end

  it "installs the gem as build.sh does (same flags, same gem dir) and compiles nothing" do
    install = run_lines(builder).find { |l| l.include?("gem install") }
    expect(install).to include(*recipe.gem_install_flags).and include("--install-dir /staging#{recipe.gem_dir}")
    builder_runs = run_lines(builder).join("\n")
    %w[rake cargo rustup build-essential clang ruby-dev libclang-dev].each do |tool|
      expect(builder_runs).not_to match(/\b#{Regexp.escape(tool)}\b/)
    end
  end

  it "has build.sh's image config: user, workdir, entrypoint, port, stop signal and environment" do
    config = recipe.config
    expect(last(runtime, "USER")["args"]).to eq([config[:user]])
    expect(last(runtime, "WORKDIR")["args"]).to eq([config[:workdir]])
    expect(last(runtime, "ENTRYPOINT")["args"]).to eq(config[:entrypoint])
    expect(last(runtime, "STOPSIGNAL")["args"]).to eq([config[:stopsignal]])
    expect(last(runtime, "EXPOSE")["args"].map { |p| p.include?("/") ? p : "#{p}/tcp" }).to eq(config[:ports])
    # PATH comes with the Debian base image; build.sh's base has none, so it sets it.
    expect(env_of(runtime)).to eq(config[:env].except("PATH"))
  end

  it "sends the platform gem and the package list, and nothing else, into the build context" do
    rules = File.readlines(File.join(root, ".dockerignore"), chomp: true).reject { |l| l.strip.empty? || l.start_with?("#") }
    # Docker's rule: the last pattern that matches the path or one of its parent directories wins.
    included = lambda do |path|
      prefixes = path.split("/").each_index.map { |i| path.split("/")[0..i].join("/") }
      rules.reduce(true) do |keep, rule|
        negated = rule.start_with?("!")
        prefixes.any? { |p| File.fnmatch?(rule.delete_prefix("!"), p, File::FNM_PATHNAME) } ? negated : keep
      end
    end
    expect(included.call("pkg/stats_tracker-0.1.0-#{recipe.platform}.gem")).to be(true)
    expect(included.call("operator/image/runtime-packages.txt")).to be(true)
    expect(included.call("pkg/stats_tracker-0.1.0.gem")).to be(false)
    expect(included.call("ext")).to be(false)
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
