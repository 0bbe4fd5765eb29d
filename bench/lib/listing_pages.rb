# frozen_string_literal: true

require_relative "bench_support"

module Bench
  # Org package listings of any size, built from the corpus listing's own markup (its page
  # frame, one of its `Box-row` rows as the template, its pagination block), so the operator
  # reads pages shaped like the ones the parser is tested on.
  class ListingPages
    SOURCE = "listing-fluxcd-page1.html"
    ROW = %r{<li class="Box-row">.*?</li>}m
    PER_PAGE = 30

    def initialize(fixtures_dir: FIXTURES)
      html = File.binread(File.join(fixtures_dir, SOURCE)).force_encoding(Encoding::UTF_8)
      rows = html.to_enum(:scan, ROW).map { Regexp.last_match }
      raise "#{SOURCE}: no Box-row rows found" if rows.empty?

      @head = html[0...rows.first.begin(0)]
      @row = rows.first[0]
      @tail = html[rows.last.end(0)..]
      @template_owner = "fluxcd"
      @template_name = @row[%r{/packages/container/package/([^"]+)"}, 1] or raise "#{SOURCE}: row has no package link"
    end

    # -> Array of page bodies (binary Strings) listing `names` for org `owner`, PER_PAGE a page.
    def pages(owner:, names:)
      slices = names.each_slice(PER_PAGE).to_a
      slices.each_with_index.map do |slice, index|
        number = index + 1
        body = slice.map { |name| row(owner, name) }.join("\n")
        (head(owner, names.size) + body + tail(owner, number, number < slices.size)).b
      end
    end

    private

    def row(owner, name)
      @row.gsub(@template_name, name).gsub("/#{@template_owner}/", "/#{owner}/")
          .gsub(">#{@template_owner}/", ">#{owner}/").gsub("#{@template_owner}/#{@template_name}", "#{owner}/#{name}")
    end

    def head(owner, count)
      @head.gsub("/orgs/#{@template_owner}/", "/orgs/#{owner}/").sub(%r{<span>\d+</span> packages}, "<span>#{count}</span> packages")
    end

    # The template is page 1 of 3: point its rel="next" links at the following page, or drop
    # them on the last page so the listing ends there.
    def tail(owner, number, more)
      text = @tail.gsub("/orgs/#{@template_owner}/", "/orgs/#{owner}/")
      return text.gsub(/\s+rel="next"/, "") unless more

      text.gsub(/(rel="next"[^>]*href="[^"]*[?&]page=)\d+/) { "#{Regexp.last_match(1)}#{number + 1}" }
    end
  end
end
