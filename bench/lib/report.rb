# frozen_string_literal: true

require "etc"
require "open3"
require "rbconfig"
require_relative "bench_support"

module Bench
  # Turns the rows one `rake bench` run collected into the printed table and bench/RESULTS.md,
  # with the machine description needed to read them.
  class Report
    RESULTS_MD = File.join(ROOT, "bench", "RESULTS.md")

    def initialize(rows:, command:, started_at:, finished_at:, load_before:, load_after:)
      @rows = rows
      @command = command
      @started_at = started_at
      @finished_at = finished_at
      @load_before = load_before
      @load_after = load_after
    end

    def print_table(io = $stdout)
      io.puts
      io.puts("== stats_tracker benchmarks (medians; ratios measured side by side in this run) ==")
      @rows.each { |row| io.puts(Table.line(row)) }
      io.puts
    end

    # The soak's sections (bench/lib/soak_report.rb) come from their own, much longer runs:
    # they are carried over, not dropped.
    def write(path = RESULTS_MD)
      kept = File.exist?(path) ? File.read(path).scan(/<!-- soak \S+ begin -->.*?<!-- soak \S+ end -->\n/m) : []
      File.write(path, [markdown.chomp, *kept].join("\n\n"))
      path
    end

    def markdown
      <<~MD
        # Benchmark results

        Written by `rake bench` (bench/lib/report.rb); do not edit by hand. Medians over many
        iterations, contenders interleaved within each run; ratios from the same run are what count,
        absolute figures move with the machine's load.

        - Command: `#{@command}`
        - Run: #{@started_at.utc.strftime('%Y-%m-%d %H:%M:%S UTC')} to #{@finished_at.utc.strftime('%H:%M:%S UTC')} (#{Bench.format_seconds(@finished_at - @started_at)})#{Bench.quick? ? ', BENCH_QUICK=1 (short run)' : ''}
        - Load average (1/5/15 min): #{@load_before} at start, #{@load_after} at end (the machine is shared with other builds)
        - Tree: #{tree}
        - Artifacts measured: #{artifacts}

        ## Machine

        #{machine.map { |k, v| "- #{k}: #{v}" }.join("\n")}

        ## Results

        | family | measurement | median | ratio | target | met | note |
        |---|---|---:|---|---|---|---|
        #{@rows.map { |r| table_row(r) }.join("\n")}

        ## Not measured

        #{not_measured}

        ## How each figure is taken

        - **parser**: bench/parser.rb. Every contender parses every corpus package page in each round
          (10 calls per round on the largest page) before the next round starts. The native core runs in
          bench/native (release, the guest's codegen settings), driven over a pipe and timing each call
          itself. Nokogiri runs `Nokogiri::HTML(html)` plus one XPath for the count (it does less work than
          the parser, which also reads the 30-day chart and the publish date). The wasmtime CLI runs
          `wasmtime run --allow-precompiled` on the command module precompiled once (its best case).
          Every answer is checked against expected.json; a wrong answer is noted on the row.
        - **overhead**: a #{TINY_PAGE.bytesize}-byte page, so instantiate + call dominate; the per-call overhead is
          Parser#package minus the native core on the same page.
        - **cold**: whole `ruby` processes, alternating: `ruby -e 0`; `require "stats_tracker"` +
          `Parser.new` + one parse of the largest page with STATS_TRACKER_CACHE_DIR primed (warm) or
          empty (cold); Nokogiri's equivalent for context.
        - **threads**: one shared Parser, the same number of parses of the largest page split over
          1, 2 and 4 threads, counts alternating per round.
        - **memory**: RSS (/proc/self/status) after 1,000 and after all parses (corpus pages
          round-robin, 2 threads, one process); peak per parse = VmHWM after a reset (clear_refs 5)
          minus RSS before one parse of the largest page.
        - **operator**: bench/operator.rb. The operator runs as its own process (operator/operator.rb)
          against etcd + kube-apiserver + controller manager (testing/kube_cluster.rb) and the
          page server (testing/page_server.rb) with generated 30-per-page org listings built from
          the corpus listing markup and package pages from the corpus. GITHUB_RATE=1000 so the
          GitHub limiter does not dominate. API requests are the API server's own
          apiserver_request_total (before/after, leaves/projects/events/secrets, watches excluded),
          minus the requests the bench makes (Project applies, readiness LISTs); the operator's own
          client-side counter is shown for comparison. The quiet window (nothing due, interval 1h)
          spans three watch ends of every informer (WATCH_TIMEOUT=10); each resumes from its resourceVersion, so it costs no list.
      MD
    end

    private

    def table_row(row)
      cells = [row.family, row.name, Table.value_text(row), Table.ratio_text(row), row.target, Table.met_text(row), row.note]
      "| #{cells.map { |c| c.to_s.gsub('|', '\\|') }.join(' | ')} |"
    end

    def not_measured
      missing = @rows.select { |r| r.value.nil? }
      return "Nothing: every row above was measured in this run." if missing.empty?

      missing.map { |r| "- #{r.family} / #{r.name}: #{r.note.to_s.delete_prefix('NOT MEASURED: ')}" }.join("\n")
    end

    def machine
      {
        "CPU" => cpu_model, "CPUs (nproc)" => Etc.nprocessors, "Memory" => memory,
        "OS" => first_line("/etc/debian_version") ? "Debian #{first_line('/etc/debian_version')}" : RUBY_PLATFORM,
        "Kernel" => command_output("uname", "-r"),
        "Ruby" => RUBY_DESCRIPTION, "Rust" => command_output("rustc", "--version"),
        "wasmtime (embedded)" => embedded_wasmtime,
        "wasmtime CLI" => File.executable?(WASMTIME_CLI) ? "#{command_output(WASMTIME_CLI, '--version')} #{WASMTIME_CLI_BUILD}" : "not built",
        "Nokogiri" => nokogiri
      }
    end

    def tree
      head = command_output("git", "-C", ROOT, "rev-parse", "--short", "HEAD")
      dirty = !command_output("git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no").empty?
      "HEAD #{head}#{' (other uncommitted changes in the tree)' if dirty}"
    end

    def artifacts
      %w[lib/stats_tracker/stats_tracker.so lib/stats_tracker/wasm/ghcr_parser.wasm
         lib/stats_tracker/wasm/ghcr_parser_command.wasm].map do |rel|
        path = File.join(ROOT, rel)
        File.exist?(path) ? "#{File.basename(rel)} (#{File.mtime(path).utc.strftime('%H:%M:%S UTC')})" : "#{File.basename(rel)} (missing)"
      end.join(", ")
    end

    def cpu_model
      File.foreach("/proc/cpuinfo") { |l| return l.split(":", 2).last.strip if l.start_with?("model name") }
      "unknown"
    rescue SystemCallError
      "unknown"
    end

    def memory
      kib = File.foreach("/proc/meminfo").find { |l| l.start_with?("MemTotal:") }&.split&.fetch(1)
      kib ? format("%.1f GiB", Integer(kib) / 1024.0 / 1024) : "unknown"
    rescue SystemCallError
      "unknown"
    end

    def embedded_wasmtime
      command_output(RbConfig.ruby, "-I", File.join(ROOT, "lib"), "-e", 'require "stats_tracker"; print StatsTracker.wasmtime_version')
    end

    def nokogiri
      command_output(RbConfig.ruby, "-e",
                     'require "nokogiri"; print Nokogiri::VERSION, " (libxml2 ", Nokogiri::VERSION_INFO.dig("libxml", "loaded"), ")"')
    end

    def first_line(path)
      File.exist?(path) ? File.foreach(path).first&.strip : nil
    end

    def command_output(*cmd)
      out, status = Open3.capture2e(*cmd)
      status.success? ? out.strip : "unavailable"
    rescue SystemCallError
      "unavailable"
    end
  end
end
