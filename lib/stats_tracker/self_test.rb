# frozen_string_literal: true

require "json"
require_relative "result_shape"

module StatsTracker
  # Runs a parser over a small corpus of known pages and compares every result with the one the
  # corpus generator wrote down, so a replacement parser proves itself before it is used. The
  # pages are a subset of spec/fixtures/ghcr (the generator's output, shipped in the gem as they
  # are): both markup eras, a chart-less page, a decoy, versions, a listing, and rejects.
  module SelfTest
    DIR = File.expand_path("../../spec/fixtures/ghcr", __dir__)
    EXPECTED = "expected.json"
    PAGES = %w[
      package-12k-lowercase.html package-attr-order-2023.html package-987-no-chart-2023.html
      package-script-decoy.html package-zero-downloads.html versions-tagged-2026-user.html
      listing-fluxcd-page3.html reject-not-found.html reject-rate-limited.html
      reject-login-required.html reject-ambiguous-totals.html
    ].freeze

    # One page whose result differs from the expected one.
    Mismatch = Struct.new(:page, :expected, :actual, keyword_init: true) do
      def to_s = "#{page}: expected #{expected.to_json[0, 200]}, got #{actual.to_json[0, 200]}"
    end

    module_function

    # The files the gem must ship for #run.
    def files = (PAGES + [EXPECTED]).map { |f| File.join("spec", "fixtures", "ghcr", f) }

    # -> Array<Mismatch> (empty: the parser passed). A trap, timeout or resource limit is raised,
    # as it is for any other call: the caller decides what that means.
    def run(parser, dir: DIR)
      expected = JSON.parse(File.read(File.join(dir, EXPECTED)))
      PAGES.filter_map do |page|
        want = expected.fetch(page)
        got = result(parser, want, File.binread(File.join(dir, page)))
        Mismatch.new(page: page, expected: want, actual: got) unless got == want
      end
    end

    def result(parser, want, html)
      ResultShape.observe(parser, want["kind"] == "error" ? want["page"] : want["kind"], html)
    end
  end
end
