# frozen_string_literal: true

require "digest"
require "fileutils"
require "open3"
require "tmpdir"
require_relative "cache_root"

module StatsTracker
  module Testing
    # A parser component built from a changed copy of this repository's parser sources, the way a
    # maintainer's fix would be: the specs and bin/e2e publish it as a new parser revision. Each
    # change is a literal text replacement in one source file, which must match exactly once.
    # Built with cargo (wasm-release profile, offline: the crates are the workspace's own, already
    # fetched) into a target directory of its own under the shared cache, so the repository's
    # build output is never overwritten; cached by the digest of the sources and the changes.
    class ParserVariant
      ROOT = File.expand_path("..", __dir__)
      # The workspace's manifests and every member's sources: cargo resolves the whole workspace.
      COPY = %w[Cargo.toml Cargo.lock wasm/core wasm/component wasm/command wasm/wit
                ext/stats_tracker/Cargo.toml ext/stats_tracker/src ext/stats_tracker_host].freeze
      BUILT = "wasm32-wasip2/wasm-release/ghcr_parser_component.wasm"

      # Accepts "Total pulls" wherever it accepts "Total downloads": the fix for MarkupChange.
      PULLS_LABEL = { "wasm/core/src/package.rs" => [['if text_is(text, "Total downloads") {',
                                                      'if text_is(text, "Total downloads") || text_is(text, "Total pulls") {']] }.freeze

      # The markup change PULLS_LABEL fixes, applied to a page.
      def self.markup_change(html) = html.gsub("Total downloads", "Total pulls")

      def initialize(name:, changes:, cache_root: default_cache_root)
        @name = name
        @changes = changes
        @cache_root = cache_root
      end

      # -> path of the built component.
      def path
        out = File.join(@cache_root, "#{@name}-#{digest[0, 16]}.wasm")
        return out if File.exist?(out)

        FileUtils.mkdir_p(@cache_root)
        Dir.mktmpdir("parser-variant-", @cache_root) do |src|
          copy_sources(src)
          apply_changes(src)
          build(src)
          FileUtils.cp(File.join(target_dir, BUILT), "#{out}.tmp")
          File.rename("#{out}.tmp", out)
        end
        out
      end

      private

      def default_cache_root
        CacheRoot.join("parser-variants")
      end

      def target_dir = File.join(@cache_root, "target")

      def sources
        COPY.flat_map do |rel|
          full = File.join(ROOT, rel)
          File.directory?(full) ? Dir.glob("**/*", base: full).map { |f| File.join(rel, f) }.select { |f| File.file?(File.join(ROOT, f)) } : [rel]
        end.reject { |f| f.include?("/target/") }.sort
      end

      def digest
        @digest ||= Digest::SHA256.hexdigest(
          sources.map { |f| "#{f}\0#{Digest::SHA256.file(File.join(ROOT, f)).hexdigest}\n" }.join + Marshal.dump(@changes)
        )
      end

      def copy_sources(dest)
        sources.each do |rel|
          FileUtils.mkdir_p(File.dirname(File.join(dest, rel)))
          FileUtils.cp(File.join(ROOT, rel), File.join(dest, rel))
        end
      end

      def apply_changes(src)
        @changes.each do |file, replacements|
          path = File.join(src, file)
          text = File.read(path)
          replacements.each do |from, to|
            count = text.scan(from).size
            raise ArgumentError, "#{file}: #{from.inspect} occurs #{count} times, expected once" unless count == 1

            text = text.sub(from) { to }
          end
          File.write(path, text)
        end
      end

      def build(src)
        env = { "CARGO_TARGET_DIR" => target_dir }
        cmd = %w[nice -n 10 cargo build --offline --locked --profile wasm-release --target wasm32-wasip2 -p ghcr-parser-component]
        out, status = Open3.capture2e(env, *cmd, chdir: src)
        raise "building parser variant #{@name} failed:\n#{out.lines.last(30).join}" unless status.success?
      end
    end
  end
end
