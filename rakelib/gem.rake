# frozen_string_literal: true

require "json"
require "rbconfig"
require "tmpdir"
require_relative "native/user_install"

# Packaging: `rake gem` builds pkg/stats_tracker-VERSION.gem (after `rake wasm`, so the
# prebuilt guest artifacts are inside); `rake gem:smoke` installs it and the x86_64-linux
# platform gem (rakelib/native.rake) into scratch GEM_HOMEs, as users would, and uses them
# from outside the checkout.
module GemPackaging
  ROOT = File.expand_path("..", __dir__)
  ARTIFACTS = %w[lib/stats_tracker/wasm/ghcr_parser.wasm lib/stats_tracker/wasm/ghcr_parser_command.wasm].freeze
  REQUIRED = ["Cargo.toml", "Cargo.lock", "ext/stats_tracker/extconf.rb", "ext/stats_tracker/Cargo.toml",
              "ext/stats_tracker_host/Cargo.toml", "ext/stats_tracker_host/build.rs",
              "wasm/wit/ghcr-parser.wit", "exe/stats-tracker", "lib/stats_tracker.rb", *ARTIFACTS].freeze
  FORBIDDEN = [%r{\Awasm/fuzz/}, %r{(\A|/)target/}, /\.(so|bundle|o)\z/, %r{\Aext/stats_tracker/Makefile\z}].freeze
  # A platform gem: the artifacts beside its binaries, and no build output.
  PLATFORM_REQUIRED = ["exe/stats-tracker", "lib/stats_tracker.rb", *ARTIFACTS].freeze
  PLATFORM_FORBIDDEN = [%r{(\A|/)target/}, /\.(o|bundle)\z/, /Makefile\z/].freeze
  # An in-tree page with a count above 2^32 and a chart, its expected.json entry beside it.
  FIXTURES = File.join(ROOT, "spec/fixtures/ghcr-extra")
  SMOKE_FIXTURE = "package-count-above-u32.html"
  SPIN_GUEST = File.join(ROOT, "spec/fixtures/guests/spin.wat")
  INSTALLED_CHECK = File.join(ROOT, "rakelib/native/installed_check.rb")
  SMOKE_PLATFORM = "x86_64-linux"

  module_function

  def spec
    Gem::Specification.load(File.join(ROOT, "stats_tracker.gemspec"))
  end

  def gem_path
    File.join(ROOT, "pkg", "#{spec.full_name}.gem")
  end

  def check_files!(files, required: REQUIRED, forbidden: FORBIDDEN)
    missing = required - files
    abort "gem would lack #{missing.join(', ')} (run `rake wasm` / check the gemspec)" unless missing.empty?

    stray = files.select { |f| forbidden.any? { |pattern| f.match?(pattern) } }
    abort "gem would contain #{stray.join(', ')}, which it must not ship" unless stray.empty?
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

  def platform_gem_path(platform)
    File.join(ROOT, "pkg", "#{spec.name}-#{spec.version}-#{platform}.gem")
  end

  # The source gem, with cargo on PATH, and the x86_64-linux platform gem, without any
  # compiler on PATH, each installed into its own scratch GEM_HOME and used from outside the
  # checkout; then Bundler, asked for `gem "stats_tracker"` with both gems in its local source.
  def smoke(keep: ENV.fetch("KEEP_SMOKE", nil))
    Dir.mktmpdir("stats_tracker-gem-smoke-") do |scratch|
      source = NativeGem::UserInstall.new(File.join(scratch, "source"), toolchain: true)
      target_state = source.cargo_target_state
      source_seconds = source.install(gem_path)
      # RubyGems puts the compiled extension in the gem's lib/ as well as in extensions/.
      check_installed(source, binary_under: source.gem_home)
      check_cli(source)

      platform = NativeGem::UserInstall.new(File.join(scratch, "platform"), toolchain: false)
      compilers = platform.compilers_on_path
      abort "the toolchain-free PATH still finds #{compilers.join(', ')}" unless compilers.empty?
      platform_seconds = platform.install(platform_gem_path(SMOKE_PLATFORM))
      check_installed(platform, binary_under: installed_gem_dir(platform, SMOKE_PLATFORM))
      check_cli(platform)

      check_bundler(File.join(scratch, "bundler"))
      puts format("gem:smoke OK: gem install took %<source>.1f s for the source gem (cargo, #{target_state}) " \
                  "and %<platform>.1f s for the #{SMOKE_PLATFORM} gem (no compiler on PATH)",
                  source: source_seconds, platform: platform_seconds)
      keep_scratch(scratch, keep)
    end
  end

  def installed_gem_dir(user, platform)
    File.join(user.gem_home, "gems", "#{spec.name}-#{spec.version}-#{platform}", "lib", "stats_tracker", ruby_abi)
  end

  def ruby_abi
    RUBY_VERSION[/\A\d+\.\d+/]
  end

  # Runs rakelib/native/installed_check.rb with the installed gem (`via` e.g. `bundle exec ruby`)
  # and checks which extension binary it loaded.
  def check_installed(user, binary_under:, via: [], chdir: File.join(user.dir, "elsewhere"))
    FileUtils.mkdir_p(chdir)
    out = user.run!(RbConfig.ruby, *via, INSTALLED_CHECK, *smoke_inputs, chdir: chdir)
    puts out
    loaded = out[/^extension (.+)$/, 1].to_s
    abort "the installed gem loaded #{loaded.inspect}, not a binary under #{binary_under}" unless loaded.start_with?(binary_under)
  end

  def check_cli(user)
    exe = File.join(user.gem_home, "bin", "stats-tracker")
    version = user.run!(exe, "--version", chdir: user.dir)
    puts version
    abort "stats-tracker --version does not name wasmtime: #{version}" unless version.match?(/wasmtime \d+\.\d+\.\d+/)

    json = user.run!(exe, "parse", smoke_inputs.first, chdir: user.dir)
    abort "installed stats-tracker parse printed #{json}" unless JSON.parse(json) == expected_entry
  end

  # Bundler, given `gem "stats_tracker"` and a local gem source holding both gems (a directory
  # indexed by `gem generate_index`, as a gem server would serve it), must lock and install the
  # platform gem on this machine; --add-platform ruby adds the source gem for every other one.
  def check_bundler(scratch)
    user = NativeGem::UserInstall.new(scratch, toolchain: false)
    source = File.join(scratch, "source")
    app = File.join(scratch, "app")
    FileUtils.mkdir_p([File.join(source, "gems"), app])
    FileUtils.cp([gem_path, platform_gem_path(SMOKE_PLATFORM)], File.join(source, "gems"))
    user.run!(RbConfig.ruby, "-S", "gem", "generate_index", "--directory", source, chdir: scratch)
    File.write(File.join(app, "Gemfile"), %(source "file://#{source}"\n\ngem "stats_tracker"\n))
    bundle = [RbConfig.ruby, "-S", "bundle"]
    user.run!(*bundle, "lock", chdir: app)
    want_lock(app, "#{spec.version}-#{SMOKE_PLATFORM}")
    user.run!(*bundle, "lock", "--add-platform", "ruby", chdir: app)
    want_lock(app, "#{spec.version}-#{SMOKE_PLATFORM}", spec.version.to_s)
    user.run!(*bundle, "install", chdir: app)
    check_installed(user, binary_under: installed_gem_dir(user, SMOKE_PLATFORM), via: ["-S", "bundle", "exec", "ruby"],
                          chdir: app)
  end

  def want_lock(app, *versions)
    lock = File.read(File.join(app, "Gemfile.lock"))
    missing = versions.reject { |v| lock.include?("    #{spec.name} (#{v})\n") }
    abort "Gemfile.lock lacks #{missing.map { |v| "#{spec.name} (#{v})" }.join(', ')}:\n#{lock}" unless missing.empty?
    puts "Gemfile.lock resolves #{spec.name} to #{versions.join(' and ')}"
  end

  def smoke_inputs
    [File.join(FIXTURES, SMOKE_FIXTURE), File.join(FIXTURES, "expected.json"), SPIN_GUEST]
  end

  def expected_entry
    JSON.parse(File.read(File.join(FIXTURES, "expected.json"))).fetch(SMOKE_FIXTURE)
  end

  def keep_scratch(scratch, keep)
    return unless keep

    FileUtils.cp_r(scratch, keep)
    puts "kept scratch dir as #{keep}"
  end

  def sh_in(dir, *cmd)
    system(*cmd, chdir: dir, exception: true)
  end
end

desc "Build pkg/stats_tracker-VERSION.gem with the prebuilt wasm artifacts and the ext's Rust sources"
task gem: :wasm do
  GemPackaging.build
end

namespace :gem do
  desc "Install the source gem and the x86_64-linux gem (no compiler on PATH) into scratch GEM_HOMEs, use them, " \
       "resolve them with Bundler (KEEP_SMOKE=DIR keeps it)"
  task smoke: %w[gem gem:native:x86_64-linux] do
    GemPackaging.smoke
  end
end
