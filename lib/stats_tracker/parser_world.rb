# frozen_string_literal: true

module StatsTracker
  # The WIT world the parser component must implement, read from wasm/wit/ (shipped in the gem),
  # the file the extension's bindings are generated from: the one source for the world's name
  # and version, for publishing a parser and for accepting one.
  module ParserWorld
    WIT = File.expand_path("../../wasm/wit/ghcr-parser.wit", __dir__)

    module_function

    # "stats-tracker:ghcr/ghcr-parser@0.1.0"
    def name(wit: WIT)
      text = File.read(wit)
      package = text.match(/^\s*package\s+([a-z0-9-]+:[a-z0-9-]+)(@[0-9A-Za-z.+-]+)?\s*;/) or
        raise ArgumentError, "#{wit}: no package declaration"
      world = text[/^\s*world\s+([a-z0-9-]+)\s*\{/, 1] or raise ArgumentError, "#{wit}: no world declaration"
      "#{package[1]}/#{world}#{package[2]}"
    end
  end
end
