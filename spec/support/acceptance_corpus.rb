# frozen_string_literal: true

# The GHCR acceptance set that may sit beside the checkout (../shared/fixtures/ghcr, or
# $GHCR_ACCEPTANCE_FIXTURES). It is extra data: specs over it run when it is there, and
# a run without it says so once instead of failing. Nothing else may read it.
module AcceptanceCorpus
  DEFAULT_DIR = File.expand_path("../../../shared/fixtures/ghcr", __dir__)
  NOT_RUN = "GHCR acceptance set not run: %s is absent (it is optional extra data)"

  module_function

  def dir
    ENV.fetch("GHCR_ACCEPTANCE_FIXTURES", DEFAULT_DIR)
  end

  def present?
    File.file?(File.join(dir, "expected.json"))
  end

  # Defines the acceptance examples through the block when the set is present; otherwise
  # arranges for one line at the end of the run, however many spec files asked.
  def when_present
    return yield(dir) if present?
    return if @noted

    @noted = true
    message = format(NOT_RUN, dir)
    RSpec.configure { |config| config.after(:suite) { $stdout.puts("\n#{message}") } }
  end
end
