# frozen_string_literal: true

require "fileutils"
require "open3"
require "rbconfig"
require "tmpdir"

# Each case runs in a child Ruby: one process must not load the extension twice.
RSpec.describe "Finding the native extension" do
  lib = File.expand_path("../../lib", __dir__)
  abi = RUBY_VERSION[/\A\d+\.\d+/]
  library = "stats_tracker.#{RbConfig::CONFIG['DLEXT']}"

  around do |example|
    Dir.mktmpdir("stats_tracker-loader-") do |dir|
      @dir = dir
      example.run
    end
  end

  # lib/ as a gem of the given layout holds it: the checkout build removed, and `binary`
  # (the real extension unless given) put under each ABI directory.
  def gem_lib(lib, library, abis:, binary: nil)
    copy = File.join(@dir, "lib")
    FileUtils.cp_r(lib, copy)
    FileUtils.rm_f(File.join(copy, "stats_tracker", library))
    abis.each do |abi|
      FileUtils.mkdir_p(File.join(copy, "stats_tracker", abi))
      target = File.join(copy, "stats_tracker", abi, library)
      binary ? File.write(target, binary) : FileUtils.cp(File.join(lib, "stats_tracker", library), target)
    end
    copy
  end

  def run_ruby(lib_dir, code)
    Open3.capture3({ "RUBYOPT" => nil, "RUBYLIB" => nil }, RbConfig.ruby, "--disable-gems", "-I", lib_dir, "-e", code)
  end

  it "loads the binary for the running Ruby from a platform gem's <major.minor>/ directory" do
    copy = gem_lib(lib, library, abis: [abi, "9.8"])
    out, err, status = run_ruby(copy, 'require "stats_tracker"; puts StatsTracker.wasmtime_version; ' \
                                      'puts $LOADED_FEATURES.grep(/stats_tracker\.so\z/)')

    expect(status).to be_success, err
    expect(out.lines.first).to match(/\A\d+\.\d+\.\d+/)
    expect(out.lines.last.chomp).to eq(File.join(copy, "stats_tracker", abi, library))
  end

  it "says which Rubies a platform gem has binaries for and that the source gem is needed" do
    copy = gem_lib(lib, library, abis: %w[2.7 9.8])
    _, err, status = run_ruby(copy, 'require "stats_tracker"')

    expect(status).not_to be_success
    expect(err).to include("prebuilt extensions for Ruby 2.7, 9.8 only, not for Ruby #{abi}")
    expect(err).to include("gem install stats_tracker --platform ruby")
    expect(err).to include("LoadError")
  end

  it "keeps the dynamic loader's reason and names the way out when the prebuilt binary does not load" do
    copy = gem_lib(lib, library, abis: [abi], binary: "not an ELF file")
    _, err, status = run_ruby(copy, 'require "stats_tracker"')

    expect(status).not_to be_success
    expect(err).to match(/invalid ELF header|file too short/)
    expect(err).to include("prebuilt extension for Ruby #{abi} does not load on this system")
  end
end
