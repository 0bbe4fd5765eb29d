# frozen_string_literal: true

require "rubygems/package"
require "tmpdir"
require_relative "../../rakelib/native/platform_gem"

# The platform gem made from the real gemspec and the extension `rake compile` built; the
# install-and-use check is `rake gem:smoke`.
RSpec.describe NativeGem::PlatformGem do
  root = File.expand_path("../..", __dir__)
  binary = File.join(root, "lib", "stats_tracker", "stats_tracker.so")
  abi = RUBY_VERSION[/\A\d+\.\d+/]

  let(:source_spec) { Gem::Specification.load(File.join(root, "stats_tracker.gemspec")) }
  let(:gem) { described_class.new(source_spec: source_spec, platform: "x86_64-linux", binaries: { abi => binary }) }

  it "is a valid specification for the platform, with nothing to compile at install time" do
    expect { gem.spec.validate(false) }.not_to raise_error
    expect(gem.spec.platform.to_s).to eq("x86_64-linux")
    expect(gem.spec.extensions).to be_empty
    expect(gem.spec.full_name).to eq("stats_tracker-#{source_spec.version}-x86_64-linux")
  end

  it "ships the binary under the Ruby ABI directory with the artifacts, the CLI and the signatures" do
    expect(gem.spec.files).to include("lib/stats_tracker/#{abi}/stats_tracker.so", "lib/stats_tracker.rb",
                                      "lib/stats_tracker/wasm/ghcr_parser.wasm",
                                      "lib/stats_tracker/wasm/ghcr_parser_command.wasm", "exe/stats-tracker",
                                      "sig/stats_tracker.rbs")
    expect(gem.spec.executables).to eq(["stats-tracker"])
  end

  it "leaves the Rust sources and the Cargo workspace to the source gem, keeping only the WIT world" do
    expect(gem.spec.files.grep(%r{\Aext/|\Awasm/|\ACargo\.})).to eq(["wasm/wit/ghcr-parser.wit"])
    expect(gem.spec.files.grep(/\.so\z/)).to eq(["lib/stats_tracker/#{abi}/stats_tracker.so"])
  end

  it "requires exactly the Ruby ABIs it has binaries for" do
    requirement = gem.spec.required_ruby_version

    expect(requirement).to be_satisfied_by(Gem::Version.new(RUBY_VERSION))
    expect(requirement).to be_satisfied_by(Gem::Version.new("#{abi}.99"))
    next_minor = Gem::Version.new(abi).segments.then { |major, minor| "#{major}.#{minor + 1}" }
    expect(requirement).not_to be_satisfied_by(Gem::Version.new("#{next_minor}.0"))
    expect(requirement).not_to be_satisfied_by(Gem::Version.new("#{next_minor}.0.preview1"))
    expect(requirement).not_to be_satisfied_by(Gem::Version.new("3.0.6"))
  end

  it "spans several ABIs when it holds several" do
    requirement = Gem::Requirement.new(described_class.ruby_requirement(%w[3.3 3.1 3.2]))

    expect(%w[3.1.0 3.2.5 3.3.9].map { |v| requirement.satisfied_by?(Gem::Version.new(v)) }).to all(be true)
    expect(%w[3.0.9 3.4.0 3.4.0.preview2].map { |v| requirement.satisfied_by?(Gem::Version.new(v)) }).to all(be false)
  end

  it "builds a .gem whose contents are the binary and sources as listed, executable bits kept" do
    Dir.mktmpdir("platform-gem-spec-") do |out|
      path = gem.build(out)
      package = Gem::Package.new(path)

      expect(File.basename(path)).to eq("stats_tracker-#{source_spec.version}-x86_64-linux.gem")
      expect(package.spec.platform.to_s).to eq("x86_64-linux")
      expect(package.contents.sort).to eq(gem.spec.files)
      Dir.mktmpdir("unpacked-") do |unpacked|
        package.extract_files(unpacked)
        expect(File.binread(File.join(unpacked, "lib/stats_tracker/#{abi}/stats_tracker.so"))).to eq(File.binread(binary))
        expect(File.executable?(File.join(unpacked, "exe/stats-tracker"))).to be(true)
      end
    end
  end
end
