# frozen_string_literal: true

require "erb"
require_relative "numbers"
require_relative "paths"
require_relative "svg"

module StatsTracker
  module Dashboard
    # The two HTML pages. Every name and number goes through h() (or Numbers, which yields
    # only digits and signs), and every link through Paths.
    module Pages
      STYLE = <<~CSS
        body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:.75rem;color:#1b1f24}
        h1{font-size:1.3rem;margin:.3rem 0 .8rem;overflow-wrap:anywhere}
        h2{font-size:1.05rem;margin:1.2rem 0 .4rem}
        a{color:#0550ae}
        .scroll{overflow-x:auto}
        table{border-collapse:collapse;width:100%}
        th,td{padding:.3rem .5rem;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:middle}
        td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        td.name{overflow-wrap:anywhere}
        .muted{color:#57606a}
        svg.chart{width:100%;height:12rem;background:#f6f8fa;border-radius:4px}
        svg.chart polyline{fill:none;stroke:#0969da;stroke-width:2;vector-effect:non-scaling-stroke}
        svg.chart circle{fill:#0969da}
        svg.chart rect{fill:#2da44e}
        svg.spark{width:6.5rem;height:1.5rem}
        svg.spark polyline{fill:none;stroke:#0969da;stroke-width:1.5;vector-effect:non-scaling-stroke}
        .facts{display:flex;flex-wrap:wrap;gap:.4rem 1.5rem;margin:.3rem 0}
        .axis{display:flex;justify-content:space-between;font-size:.8rem;color:#57606a;margin:.1rem 0 0}
        @media (max-width:30rem){.trend{display:none}table{font-size:.8rem}th,td{padding:.25rem .3rem}}
        .facts b{display:block;font-size:1.2rem;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
      CSS

      module_function

      def h(text)
        ERB::Util.html_escape(text.to_s)
      end

      def layout(title, body)
        <<~HTML
          <!DOCTYPE html>
          <html lang="en"><head><meta charset="utf-8">
          <meta name="viewport" content="width=device-width, initial-scale=1">
          <title>#{h(title)}</title><style>#{STYLE}</style></head>
          <body>#{body}</body></html>
        HTML
      end

      def index(summaries)
        rows = summaries.map do |s|
          <<~ROW
            <tr><td class="name"><a class="package" href="#{h(Paths.package(s.owner, s.name))}">#{h(s.owner)}/#{h(s.name)}</a></td>
            <td class="num total">#{Numbers.grouped(s.total_downloads)}</td>
            <td class="trend">#{Svg.sparkline(s.daily.map(&:count), label: "#{s.owner}/#{s.name}, last 30 days")}</td>
            <td class="num change">#{Numbers.change(s.change_30d)}</td></tr>
          ROW
        end
        table = if rows.empty?
                  %(<p class="muted">Nothing recorded yet. Run <code>stats-tracker fetch OWNER/PACKAGE --record</code>.</p>)
                else
                  %(<div class="scroll"><table><thead><tr><th>package</th><th class="num">downloads</th><th class="trend">trend</th>) +
                    %(<th class="num">30 days</th></tr></thead><tbody>#{rows.join}</tbody></table></div>)
                end
        layout("stats_tracker: packages", %(<h1>Container package downloads</h1>#{table}))
      end

      def package(summary, observations, versions)
        name = "#{summary.owner}/#{summary.name}"
        points = observations.flat_map do |o|
          if o.last_seen_at > o.observed_at
            [[o.observed_at, o.total_downloads],
             [o.last_seen_at, o.total_downloads]]
          else
            [[o.observed_at, o.total_downloads]]
          end
        end
        body = <<~HTML
          <p><a href="/">&larr; all packages</a></p>
          <h1>#{h(name)}</h1>
          <div class="facts"><div>downloads<b id="total">#{Numbers.grouped(summary.total_downloads)}</b></div>
          <div>7 days<b>#{Numbers.change(summary.change_7d)}</b></div>
          <div>30 days<b>#{Numbers.change(summary.change_30d)}</b></div></div>
          <h2>Total downloads over time</h2>
          <div id="totals">#{Svg.line_chart(points, label: "total downloads of #{name}")}</div>
          #{axis(points.first, points.last)}
          <h2>Downloads per day (GitHub's chart)</h2>
          <div id="daily">#{Svg.bar_chart(summary.daily, label: "downloads per day of #{name}")}</div>
          #{axis(*summary.daily.values_at(0, -1).compact.map { |d| [d.date, d.count] })}
          <h2>Versions</h2>
          #{versions_table(versions)}
          <p class="muted">JSON: <a href="#{h(Paths.package_json(summary.owner, summary.name))}">#{h(Paths.package_json(summary.owner, summary.name))}</a></p>
        HTML
        layout(name, body)
      end

      # The first and last point under a chart: when, and how many.
      def axis(first = nil, last = nil)
        return "" unless first && last

        label = ->((time, value)) { "#{time.respond_to?(:strftime) ? time.strftime('%Y-%m-%d') : time} · #{Numbers.grouped(value)}" }
        %(<p class="axis"><span>#{h(label.call(first))}</span><span>#{h(label.call(last))}</span></p>)
      end

      def versions_table(versions)
        return %(<p class="muted">No per-version counts recorded.</p>) if versions.empty?

        rows = versions.map { |v| %(<tr><td class="name">#{h(v.tag)}</td><td class="num">#{Numbers.grouped(v.downloads)}</td></tr>) }
        %(<div class="scroll"><table id="versions"><thead><tr><th>tag</th><th class="num">downloads</th></tr></thead>) +
          %(<tbody>#{rows.join}</tbody></table></div>)
      end

      def not_found(what)
        layout("not found", %(<p><a href="/">&larr; all packages</a></p><h1>Not found</h1><p>#{h(what)}</p>))
      end
    end
  end
end
