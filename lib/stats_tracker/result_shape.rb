# frozen_string_literal: true

require_relative "values"
require_relative "error"

module StatsTracker
  # The parser's results as JSON objects in the corpus's expected.json shape: the one Ruby path
  # to that shape, used by the CLI, the self-test and the specs. The wasm core writes the same
  # shape on its own (its json.rs, printed by the WASI command); spec/stats_tracker/result_shape_spec.rb
  # compares the two over the corpus.
  module ResultShape
    KINDS = %w[package versions listing].freeze

    module_function

    # A PackageStats, a Listing or an Array of VersionDownloads -> its JSON object.
    def of(result)
      return { "kind" => "versions", "versions" => result.map(&:to_h) } if result.is_a?(Array)

      result.to_h
    end

    def reject(reason, page_kind)
      { "kind" => "error", "reason" => reason.to_s, "page" => page_kind.to_s }
    end

    # Parses `html` as a page of `kind`; a rejected page raises ParseError.
    def parse(parser, kind, html)
      raise ArgumentError, "unknown page kind #{kind.inspect}" unless KINDS.include?(kind.to_s)

      of(parser.public_send(kind.to_sym, html))
    end

    # Like #parse, with a rejected page given as its reject object instead of raised.
    def observe(parser, kind, html)
      parse(parser, kind, html)
    rescue ParseError => e
      reject(e.reason, kind)
    end
  end
end
