# frozen_string_literal: true

module StatsTracker
  module Testing
    class PageServer
      # Reads pages from the fixture corpus and derives new ones from them. Kept apart from
      # the server so benchmarks and the demo can build pages without starting one.
      class Corpus
        LABEL = /(?<=>)\s*Total downloads\s*(?=<)/
        # Regions whose text the parser ignores; a label inside them must stay untouched.
        HIDDEN = %r{<(script|style|template)\b.*?</\1\s*>|<!--.*?-->}mi
        H3 = %r{<h3\b(?<attrs>[^>]*)>(?<text>.*?)</h3\s*>}mi
        TITLE = /\btitle\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+)/i

        attr_reader :dir

        def initialize(dir)
          @dir = dir
          @cache = {}
          @lock = Mutex.new
        end

        def read(name)
          @lock.synchronize do
            @cache[name] ||= File.binread(path(name)).freeze
          end
        end

        def path(name)
          full = File.expand_path(name, dir)
          raise ArgumentError, "fixture #{name.inspect} is outside #{dir}" unless full.start_with?("#{File.expand_path(dir)}/")
          raise ArgumentError, "no fixture #{name.inspect} in #{dir}" unless File.file?(full)

          full
        end

        def fixture?(name_or_html)
          !name_or_html.include?("<") && File.file?(File.expand_path(name_or_html, dir))
        end

        # Either a fixture's bytes or the given HTML itself.
        def resolve(name_or_html)
          fixture?(name_or_html) ? read(name_or_html) : name_or_html.b
        end

        # The fixture with every visible "Total downloads" count (the title attribute the
        # parser reads and the text a person sees) replaced by total. Labels inside scripts,
        # styles, templates and comments are left alone, as the parser ignores them too.
        def package_html(total:, fixture:)
          count = Integer(total)
          raise ArgumentError, "total must be >= 0" if count.negative?

          html = read(fixture).dup.force_encoding(Encoding::UTF_8)
          hidden = hidden_ranges(html)
          positions = label_ends(html).reject { |pos| hidden.any? { |r| r.cover?(pos) } }
          raise ArgumentError, "#{fixture} has no visible \"Total downloads\" label" if positions.empty?

          positions.reverse_each { |pos| rewrite_h3_after(html, pos, count) }
          html.b
        end

        private

        def hidden_ranges(html)
          ranges = []
          html.scan(HIDDEN) { ranges << (Regexp.last_match.begin(0)...Regexp.last_match.end(0)) }
          ranges
        end

        def label_ends(html)
          ends = []
          html.scan(LABEL) { ends << Regexp.last_match.end(0) }
          ends
        end

        def rewrite_h3_after(html, pos, count)
          match = H3.match(html, pos) or raise ArgumentError, "no <h3> after a Total downloads label"

          attrs = match[:attrs]
          attrs = attrs.match?(TITLE) ? attrs.sub(TITLE, %(title="#{count}")) : %( title="#{count}"#{attrs})
          html[match.begin(0)...match.end(0)] = "<h3#{attrs}>#{delimited(count)}</h3>"
        end

        def delimited(count)
          count.to_s.reverse.scan(/\d{1,3}/).join(",").reverse
        end
      end
    end
  end
end
