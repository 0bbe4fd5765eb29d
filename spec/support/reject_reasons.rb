# frozen_string_literal: true

# The reject reasons as the WIT world declares them (the single source of the list), and the
# exit codes the WASI command documents for them. Specs compare every other copy with these.
module RejectReasons
  ROOT = File.expand_path("../..", __dir__)
  WIT = File.join(ROOT, "wasm", "wit", "ghcr-parser.wit")
  COMMAND_README = File.join(ROOT, "wasm", "command", "README.md")

  module_function

  # Snake-case names in declaration order (`not-html` becomes "not_html").
  def names
    body = File.read(WIT)[/enum\s+reject-reason\s*\{(?<cases>.*?)\}/m, :cases] or raise "#{WIT}: no enum reject-reason"
    body.gsub(%r{//[^\n]*}, "").split(",").map(&:strip).reject(&:empty?).map { |name| name.tr("-", "_") }
  end

  # { "empty" => 10, ... } from the README's table rows "| 10 | reject `empty` |".
  def documented_exit_codes
    File.read(COMMAND_README).scan(/^\|\s*(\d+)\s*\|\s*reject `(\w+)`/).to_h { |code, name| [name, Integer(code)] }
  end

  def exit_code(name)
    documented_exit_codes.fetch(name) { raise KeyError, "#{COMMAND_README} documents no exit code for #{name}" }
  end
end
