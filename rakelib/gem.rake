# frozen_string_literal: true

require "json"
require "open3"
require "rbconfig"
require "tmpdir"

# Packaging: `rake gem` builds pkg/stats_tracker-VERSION.gem (after `rake wasm`, so the
# prebuilt guest artifacts are inside); `rake gem:smoke` installs that file into a scratch
# GEM_HOME, as a user would, and uses it from outside the checkout.
module GemPackaging
  ROOT = File.expand_path("..", __dir__)
  ARTIFACTS = %w[lib/stats_tracker/wasm/ghcr_parser.wasm lib/stats_tracker/wasm/ghcr_parser_command.wasm].freeze
  REQUIRED = ["Cargo.toml", "Cargo.lock", "ext/stats_tracker/extconf.rb", "ext/stats_tracker/Cargo.toml",
              "wasm/wit/ghcr-parser.wit", "exe/stats-tracker", "lib/stats_tracker.rb", *ARTIFACTS].freeze
  FORBIDDEN = [%r{\Awasm/fuzz/}, %r{(\A|/)target/}, /\.(so|bundle|o)\z/, %r{\Aext/stats_tracker/Makefile\z}].freeze
  SMOKE_FIXTURE = "package-small-42.html"

  module_function

  def spec
    Gem::Specification.load(File.join(ROOT, "stats_tracker.gemspec"))
  end

  def gem_path
    File.join(ROOT, "pkg", "#{spec.full_name}.gem")
  end

  def check_files!(files)
    missing = REQUIRED - files
    abort "gem would lack #{missing.join(', ')} (run `rake wasm` / check the gemspec)" unless missing.empty?

    stray = files.select { |f| FORBIDDEN.any? { |pattern| f.match?(pattern) } }
    abort "gem would contain build output or fuzz targets: #{stray.join(', ')}" unless stray.empty?
  end

  # Every workspace member must travel, or cargo cannot load the workspace at install time.
  def check_workspace!(files)
    members = File.read(File.join(ROOT, "Cargo.toml"))[/^members\s*=\s*\[(.*?)\]/m, 1].to_s.scan(/"([^"]+)"/).flatten
    lost = members.reject { |member| files.include?("#{member}/Cargo.toml") }
    abort "gem lacks workspace members #{lost.join(', ')}" unless lost.empty?
  end

  def build
    files = spec.files
    check_files!(files)
    check_workspace!(files)
    FileUtils.mkdir_p(File.dirname(gem_path))
    sh_in(ROOT, Gem.ruby, "-S", "gem", "build", "stats_tracker.gemspec", "--output", gem_path)
    puts "built #{gem_path} (#{files.size} files, #{File.size(gem_path)} bytes)"
  end

  # The unbundled environment a user's shell would have, plus a private GEM_HOME that still
  # sees the system gem dirs (kubeclient comes from Debian).
  def user_env(gem_home)
    system_path = clean { capture(Gem.ruby, "-e", "puts Gem.path").split("\n") }
    {
      "GEM_HOME" => gem_home, "GEM_PATH" => [gem_home, *system_path].uniq.join(File::PATH_SEPARATOR),
      "PATH" => [File.join(gem_home, "bin"), ENV.fetch("PATH")].join(File::PATH_SEPARATOR),
      "CARGO_TARGET_DIR" => ENV.fetch("CARGO_TARGET_DIR"), "STATS_TRACKER_CACHE_DIR" => File.join(gem_home, "module-cache")
    }
  end

  def smoke(keep: ENV["KEEP_SMOKE"])
    Dir.mktmpdir("stats_tracker-gem-smoke-") do |scratch|
      gem_home = File.join(scratch, "gems")
      elsewhere = File.join(scratch, "elsewhere")
      FileUtils.mkdir_p(elsewhere)
      env = user_env(gem_home)

      clean do
        # GEM_HOME, not --install-dir: with --install-dir RubyGems looks for dependencies in
        # that directory only and would not see Debian's kubeclient.
        sh_env(env, scratch, Gem.ruby, "-S", "gem", "install", "--local", "--no-document", gem_path)
        check_parse(env, elsewhere)
        check_cli(env, elsewhere, gem_home)
      end
      puts "gem:smoke OK (#{spec.full_name} installed into a scratch GEM_HOME and used from #{elsewhere})"
      if keep
        FileUtils.cp_r(scratch, keep)
        puts "kept scratch dir as #{keep}"
      end
    end
  end

  def check_parse(env, dir)
    fixture = File.join(fixtures_dir, SMOKE_FIXTURE)
    script = <<~RUBY
      require "json"
      require "stats_tracker"
      abort "loaded from the checkout: \#{$LOADED_FEATURES.grep(/stats_tracker/).first}" if $LOADED_FEATURES.any? { |f| f.start_with?(#{ROOT.dump}) }
      stats = StatsTracker::Parser.new.package(File.read(ARGV.fetch(0)))
      p stats
      puts JSON.generate(stats.to_h)
    RUBY
    out = capture_env(env, dir, Gem.ruby, "-e", script, fixture)
    puts out
    got = JSON.parse(out.lines.last)
    want = JSON.parse(File.read(File.join(fixtures_dir, "expected.json"))).fetch(SMOKE_FIXTURE)
    want.delete("kind")
    abort "installed gem parsed #{SMOKE_FIXTURE} as #{got} but expected.json says #{want}" unless got.reject { |k, _| k == "kind" } == want
  end

  def check_cli(env, dir, gem_home)
    version = capture_env(env, dir, File.join(gem_home, "bin", "stats-tracker"), "--version")
    puts version
    abort "stats-tracker --version does not name wasmtime: #{version}" unless version.match?(/wasmtime \d+\.\d+\.\d+/)

    json = capture_env(env, dir, File.join(gem_home, "bin", "stats-tracker"), "parse", File.join(fixtures_dir, SMOKE_FIXTURE))
    want = JSON.parse(File.read(File.join(fixtures_dir, "expected.json"))).fetch(SMOKE_FIXTURE)
    abort "installed stats-tracker parse printed #{json}" unless JSON.parse(json) == want
  end

  def fixtures_dir
    File.join(ROOT, "spec", "fixtures", "ghcr")
  end

  def clean(&block)
    defined?(Bundler) ? Bundler.with_unbundled_env(&block) : yield
  end

  def sh_in(dir, *cmd)
    system(*cmd, chdir: dir, exception: true)
  end

  def sh_env(env, dir, *cmd)
    puts "+ #{cmd.join(' ')}"
    system(env, *cmd, chdir: dir, exception: true)
  end

  def capture(*cmd)
    out, status = Open3.capture2(*cmd)
    abort "#{cmd.join(' ')} failed (#{status})" unless status.success?
    out
  end

  def capture_env(env, dir, *cmd)
    out, err, status = Open3.capture3(env, *cmd, chdir: dir)
    abort "#{cmd.first(2).join(' ')} failed (#{status}):\n#{err}" unless status.success?
    out
  end
end

desc "Build pkg/stats_tracker-VERSION.gem with the prebuilt wasm artifacts and the ext's Rust sources"
task gem: :wasm do
  GemPackaging.build
end

namespace :gem do
  desc "Install the built gem into a scratch GEM_HOME and use it from another directory (KEEP_SMOKE=DIR keeps it)"
  task smoke: :gem do
    GemPackaging.smoke
  end
end
