# frozen_string_literal: true

# What bin/test (and so .ci/run) runs after bin/setup: every lint and test, in the order
# that fails fastest. The RSpec suite runs once, with RBS runtime type checking of the
# public API switched on (spec/support/rbs_runtime.rb).
desc "Lints, Rust tests, the full RSpec suite with RBS runtime checks, the demo, a short operator soak, packaging smoke test"
task :ci do
  Rake::Task["rubocop"].invoke
  Rake::Task["wasm:lint"].invoke
  Rake::Task["wasm:test"].invoke
  Rake::Task["compile"].invoke
  Rake::Task["ext:lint"].invoke
  Rake::Task["ext:test"].invoke
  Rake::Task["rbs:validate"].invoke
  ENV["RBS_TEST"] = "1"
  Rake::Task["spec"].invoke
  Rake::Task["demo"].invoke
  Rake::Task["bench:soak_check"].invoke
  Rake::Task["gem:smoke"].invoke
end
