# frozen_string_literal: true

# What `gem build` would pack, checked without building. The install-and-use check is
# `rake gem:smoke` (rakelib/gem.rake), which the CI runs after the suite.
RSpec.describe "stats_tracker.gemspec" do
  root = File.expand_path("../..", __dir__)
  let(:spec) { Gem::Specification.load(File.join(root, "stats_tracker.gemspec")) }
  let(:files) { spec.files }

  it "is a valid gemspec" do
    expect { spec.validate(false) }.not_to raise_error
  end

  it "ships the prebuilt wasm artifacts, the CLI and the extension's build entry" do
    expect(files).to include("lib/stats_tracker/wasm/ghcr_parser.wasm", "lib/stats_tracker/wasm/ghcr_parser_command.wasm",
                             "exe/stats-tracker", "ext/stats_tracker/extconf.rb", "lib/stats_tracker.rb")
    expect(spec.executables).to eq(["stats-tracker"])
    expect(spec.extensions).to eq(["ext/stats_tracker/extconf.rb"])
  end

  it "ships the whole Cargo workspace the extension resolves through" do
    members = File.read(File.join(root, "Cargo.toml"))[/^members\s*=\s*\[(.*?)\]/m, 1].scan(/"([^"]+)"/).flatten

    expect(members).not_to be_empty
    expect(files).to include("Cargo.toml", "Cargo.lock", *members.map { |m| "#{m}/Cargo.toml" })
    members.each { |m| expect(files.grep(%r{\A#{Regexp.escape(m)}/src/.+\.rs\z})).not_to be_empty }
  end

  it "leaves fuzz targets, build output and compiled extensions out" do
    expect(files.grep(%r{\Awasm/fuzz/|(\A|/)target/|\.(so|o|bundle)\z|Makefile\z})).to be_empty
  end

  it "has no runtime dependency: kubeclient is the operator's, loaded only by it" do
    expect(spec.runtime_dependencies).to be_empty
    expect(spec.requirements.join).to include("kubeclient")
  end

  it "puts the operator on the gem's require paths" do
    expect(spec.require_paths).to end_with(%w[lib operator/lib])
    expect(files).to include("operator/lib/stats_tracker/operator.rb")
  end
end
