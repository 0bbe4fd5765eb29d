# frozen_string_literal: true

require "rspec/core/rake_task"

desc "Run the RSpec suite against the compiled extension and artifacts"
RSpec::Core::RakeTask.new(:spec) do |t|
  t.rspec_opts = ENV.fetch("SPEC_OPTS", nil)
end
task spec: :compile
