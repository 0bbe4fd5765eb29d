# frozen_string_literal: true

namespace :fixtures do
  desc "Rewrite the project's GHCR page corpus (spec/fixtures/ghcr) with its generator"
  task :ghcr do
    require_relative "../spec/fixtures/ghcr_corpus"
    names = GhcrCorpus.write
    puts "wrote #{names.size} files to #{GhcrCorpus::DIR}"
  end
end
