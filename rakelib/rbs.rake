# frozen_string_literal: true

# rbs ships with Ruby 3.1 as a bundled gem but without a binstub on Debian's PATH.
def rbs(*args)
  ruby "-e", 'load Gem.bin_path("rbs", "rbs")', "--", *args
end

namespace :rbs do
  desc "Validate the RBS signatures in sig/"
  task :validate do
    rbs "-r", "date", "-I", "sig", "validate", "--silent"
  end
end
