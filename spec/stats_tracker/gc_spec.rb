# frozen_string_literal: true

require "json"
require "open3"
require "rbconfig"
require_relative "../fixtures/guests/build"

RSpec.describe "GC safety" do
  expected = JSON.parse(File.read(File.join(GHCR_FIXTURES, "expected.json")))
  subset = %w[package-small-42.html versions-tagged-page2.html listing-fluxcd-page2.html reject-not-found.html]

  def observed(parser, name, want)
    page = want["kind"] == "error" ? want["page"] : want["kind"]
    result = parser.public_send(page, File.binread(File.join(GHCR_FIXTURES, name)))
    page == "versions" ? { "kind" => "versions", "versions" => result.map(&:to_h) } : result.to_h
  rescue StatsTracker::ParseError => e
    { "kind" => "error", "page" => page, "reason" => e.reason.to_s }
  end

  # GC.stress makes every allocation a full GC, whose cost grows with the heap; a small
  # child process (not the rspec process with everything loaded) keeps that affordable.
  def under_gc_stress(code, deadline: 300)
    script = <<~RUBY
      require "json"
      require "stats_tracker"
      #{code}
    RUBY
    lib = File.expand_path("../../lib", __dir__)
    # A deadline, so a GC.stress run that never ends fails this example instead of hanging the suite.
    out, err, status = Open3.capture3("timeout", "--signal=KILL", deadline.to_s, RbConfig.ruby, "-I", lib, "-e", script)
    raise "child did not finish within #{deadline} s under GC.stress" if status.termsig == 9 || status.exitstatus == 137
    raise "child failed: #{err}" unless status.success?

    JSON.parse(out.lines.last)
  end

  it "parses a package, versions, listing and a rejected page in a row under GC.stress" do
    # The rejected page comes after successful calls: this sequence used to never finish.
    # Each call on the main thread of a single-threaded process made Ruby create a helper
    # Thread for the unblocking function; collecting the previous call's helper queued a
    # finalizer job (a pending interrupt), so rb_nogvl(RB_NOGVL_INTR_FAIL) refused to start
    # and the retry created the next helper, forever. Fixed by RB_NOGVL_UBF_ASYNC_SAFE.
    pages = subset.map { |name| [File.join(GHCR_FIXTURES, name), expected.fetch(name)] }
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    results = under_gc_stress(<<~RUBY, deadline: 240)
      def observed(parser, page, path)
        result = parser.public_send(page, File.binread(path))
        page == "versions" ? { "kind" => "versions", "versions" => result.map(&:to_h) } : result.to_h
      rescue StatsTracker::ParseError => e
        { "kind" => "error", "page" => page, "reason" => e.reason.to_s }
      end
      parser = StatsTracker::Parser.new
      pages = #{pages.map { |path, want| [want["kind"] == "error" ? want["page"] : want["kind"], path] }.inspect}
      GC.stress = true
      results = pages.map { |page, path| observed(parser, page, path) }
      GC.stress = false
      puts JSON.generate(results)
    RUBY
    expect(results).to eq(pages.map(&:last))
    # Measured about 5 s here; the bound only separates "works" from "livelocks".
    expect(Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).to be < 120
  end

  it "runs WASI commands and raises their errors correctly under GC.stress" do
    results = under_gc_stress(<<~RUBY)
      hostile = StatsTracker::Wasi::Command.new(#{GuestBuild.rust('hostile').dump})
      GC.stress = true
      env = hostile.run(args: %w[env], env: { "K" => "v" }).stdout
      message = begin
        hostile.run(args: %w[panic])
        nil
      rescue StatsTracker::TrapError => e
        e.message
      end
      GC.stress = false
      puts JSON.generate([env, message])
    RUBY
    expect(results.first).to eq("K=v\n")
    expect(results.last).to include("guest panicked on purpose")
  end

  it "keeps native objects usable across GC.compact between calls" do
    skip "GC.compact unsupported here" unless GC.respond_to?(:compact)
    parser = StatsTracker::Parser.new
    command = StatsTracker::Wasi::Command.new(GuestBuild.rust("hostile"))
    subset.each do |name|
      GC.compact
      expect(observed(parser, name, expected.fetch(name))).to eq(expected.fetch(name))
      GC.compact
      expect(command.run(args: %w[env], env: { "N" => name }).stdout).to eq("N=#{name}\n")
    end
  end

  it "reports compiled code to the GC as malloc'd memory" do
    bytes = File.binread(GuestBuild.rust("hostile"))
    GC.disable # a GC in between would reset the counter
    before = GC.stat(:malloc_increase_bytes)
    StatsTracker::Native::WasiModule.compile(bytes)
    grown = GC.stat(:malloc_increase_bytes) - before
    GC.enable
    # Compiled hostile.wasm is hundreds of KB of machine code, allocated by Rust where
    # Ruby cannot see it; without the report this counter would barely move.
    expect(grown).to be > 100_000
  end
end
