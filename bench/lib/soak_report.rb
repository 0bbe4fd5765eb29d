# frozen_string_literal: true

require "csv"
require_relative "bench_support"

module Bench
  # Prints a soak's RSS over time and per-refresh costs, records result rows, keeps the raw
  # samples as CSV, and (SOAK_WRITE=1, what `rake bench:soak` sets) replaces the section for
  # this Leaf count in bench/RESULTS.md, so `rake bench` and the soak each own their part.
  class SoakReport
    RESULTS_MD = File.join(ROOT, "bench", "RESULTS.md")

    # label: names this run's section and CSV (default: the Leaf count), so runs of the same
    # size with different settings keep their own sections.
    def initialize(leafs:, minutes:, runs:, analyses:, load:, interval: "1m", label: nil, settings: nil)
      @leafs = leafs
      @interval = interval
      @label = label || leafs.to_s
      @settings = settings
      @minutes = minutes
      @runs = runs
      @analyses = analyses
      @load = load
    end

    def growing
      @analyses.reject { |_, a| a.flat? }.keys
    end

    def print
      puts(lines.join("\n"))
    end

    def record
      @analyses.each do |allocator, a|
        Results.record(family: "soak", name: "#{@leafs} Leafs, #{allocator}: RSS at end of #{@minutes} min soak",
                       value: a.end_rss_kib / 1024.0, unit: "MiB", target: "flat (+#{(SoakAnalysis::TOLERANCE * 100).round} %)",
                       met: a.flat?, note: a.verdict)
      end
    end

    def write_csv(dir)
      path = File.join(dir, "soak-#{@label}.csv")
      CSV.open(path, "w") do |csv|
        csv << %w[allocator t_s rss_kib cpu_s github kube cached]
        @runs.each { |run| run.samples.each { |s| csv << [run.allocator, s[:t].round(1), *s.values_at(:rss_kib, :cpu_s, :github, :kube, :cached)] } }
      end
      write_markdown if %w[1 true yes].include?(ENV.fetch("SOAK_WRITE", "").downcase)
      path
    end

    def lines
      [summary_table, "", rss_table, ""].flatten
    end

    private

    def summary_table
      rows = @analyses.map do |allocator, a|
        format("| %s | %.1f | %.1f | %.1f | %+.1f %% | %+.1f | %s | %s | %s | %s |", allocator, a.warm_rss_kib / 1024.0,
               a.end_rss_kib / 1024.0, a.max_rss_kib / 1024.0, a.growth * 100, a.slope_mib_per_hour,
               a.refreshes, number(a.cpu_ms_per_refresh), number(a.kube_per_refresh), a.flat? ? "flat" : "**GROWING**")
      end
      ["| malloc | RSS after warm-up (MiB) | RSS at end (MiB) | max (MiB) | growth | slope after warm-up (MiB/h) " \
       "| refreshes after warm-up | CPU ms / refresh | API requests / refresh | verdict |",
       "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|", *rows]
    end

    # RSS once a minute (the sample nearest each whole minute), one column per allocator.
    def rss_table
      minutes = (0..@minutes.floor).to_a
      header = "| minute | #{@runs.map(&:allocator).join(' | ')} |"
      rows = minutes.map do |m|
        cells = @runs.map do |run|
          s = run.samples.min_by { |x| (x[:t] - (m * 60)).abs }
          format("%.1f", s[:rss_kib] / 1024.0)
        end
        "| #{m} | #{cells.join(' | ')} |"
      end
      ["RSS (MiB) over the soak:", "", header, "|---:|#{'---:|' * @runs.size}", *rows]
    end

    def number(value)
      value.nil? ? "-" : format("%.2f", value)
    end

    def write_markdown
      text = File.read(RESULTS_MD)
      section = markdown_section
      pattern = /<!-- soak #{Regexp.escape(@label)} begin -->.*?<!-- soak #{Regexp.escape(@label)} end -->\n/m
      text = text.match?(pattern) ? text.sub(pattern) { section } : "#{text.chomp}\n\n#{section}"
      File.write(RESULTS_MD, text)
    end

    def markdown_section
      <<~MD
        <!-- soak #{@label} begin -->
        ## Soak: #{@leafs} Leafs, #{@minutes.round} minutes#{" (#{@settings})" if @settings}

        Written by `#{@settings ? "#{@settings} " : ''}LEAFS=#{@leafs} MINUTES=#{@minutes.round} SOAK_ALLOCATORS=#{@runs.map(&:allocator).join(',')} bundle exec rake bench:soak`
        (bench/soak.rb) at #{Time.now.utc.strftime('%Y-%m-%d %H:%M UTC')}; load average #{@load.first} at start,
        #{@load.last} at end (the machine is shared with other builds). Every Leaf has `interval: #{@interval}`;
        warm-up is the first quarter. Flat = RSS at the end within +#{(SoakAnalysis::TOLERANCE * 100).round} % of RSS
        after warm-up (medians of #{SoakAnalysis::WINDOW} samples).

        #{lines.join("\n")}
        <!-- soak #{@label} end -->
      MD
    end
  end
end
