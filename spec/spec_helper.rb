# frozen_string_literal: true

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
require "digest" # specs check artifact and page digests
require "stats_tracker"

# The project's own corpus, written by spec/fixtures/ghcr_corpus.rb (`rake fixtures:ghcr`).
GHCR_FIXTURES = File.expand_path("fixtures/ghcr", __dir__)

# The development library (API-server harness, page server) the specs share with bin/kube-local,
# rake demo and the benchmarks; not shipped in the gem.
Dir[File.expand_path("../testing/*.rb", __dir__)].each { |f| require f }
Dir[File.join(__dir__, "support", "*.rb")].each { |f| require f }

RSpec.configure do |config|
  config.disable_monkey_patching!
  config.order = :random
  Kernel.srand config.seed
  config.example_status_persistence_file_path = "spec/examples.txt"
end
