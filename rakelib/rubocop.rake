# frozen_string_literal: true

# Debian's rubocop is not in the Gemfile (no RubyGems registry here), so it runs outside the
# bundle, with the gems it was installed with.
desc "Lint the Ruby code with rubocop (.rubocop.yml)"
task :rubocop do
  run = -> { sh "rubocop", "--format", "quiet" }
  defined?(Bundler) ? Bundler.with_unbundled_env(&run) : run.call
end
