# frozen_string_literal: true

require "socket"
require "stats_tracker/operator"
require_relative "watch_control"

module StatsTracker
  module Testing
    # Helpers for operator specs: CRDs installed once per process, the real operator (Runtime)
    # running in a thread of the spec process or as a separate `ruby operator/operator.rb`,
    # a page server serving the 3-page fluxcd listing, and polling waits with generous deadlines.
    module OperatorHarness
      ROOT = File.expand_path("../../..", __dir__)
      CRD_DIR = File.join(ROOT, "operator", "deploy", "crds")
      LISTING = %w[listing-fluxcd-page1.html listing-fluxcd-page2.html listing-fluxcd-page3.html].freeze
      GROUP = "stats-tracker.dev"

      @crds_installed = false
      @parser = nil
      class << self
        attr_accessor :crds_installed

        def parser
          @parser ||= StatsTracker::Parser.new
        end
      end

      def install_crds
        return if OperatorHarness.crds_installed

        kube.apply_yaml(File.join(CRD_DIR, "projects.yaml"))
        kube.apply_yaml(File.join(CRD_DIR, "leaves.yaml"))
        OperatorHarness.crds_installed = true
      end

      def parser
        OperatorHarness.parser
      end

      def connection
        @connection ||= Operator::Kube::Connection.from_kubeconfig(kube.kubeconfig_path)
      end

      def api_for(plural)
        @apis ||= {}
        @apis[plural] ||= case plural
                          when "leaves" then Operator::Kube::ResourceApi.new(connection: connection, kind: "Leaf", plural: "leaves",
                                                                             group: GROUP, version: "v1alpha1", field_manager: "spec-user")
                          when "projects" then Operator::Kube::ResourceApi.new(connection: connection, kind: "Project", plural: "projects",
                                                                               group: GROUP, version: "v1alpha1", field_manager: "spec-user")
                          when "leases" then Operator::Kube::ResourceApi.new(connection: connection, kind: "Lease", plural: "leases",
                                                                             group: "coordination.k8s.io", field_manager: "spec-user")
                          when "events" then Operator::Kube::ResourceApi.new(connection: connection, kind: "Event", plural: "events",
                                                                             group: "events.k8s.io", field_manager: "spec-user")
                          end
      end

      # Page server with the fluxcd listing; every package page says `base + index` downloads.
      # Returns { package_name => count }.
      def serve_fluxcd(pages, base: 1000)
        pages.serve_listing(owner: "fluxcd", pages: LISTING)
        names = LISTING.flat_map { |f| parser.listing(File.binread(File.join(GHCR_FIXTURES, f))).packages.map(&:name) }
        names.each_with_index.to_h do |name, i|
          serve_count(pages, name, base + i)
          [name, base + i]
        end
      end

      def serve_count(pages, package, total)
        pages.serve_package(owner: "fluxcd", package: package, html: PageServer.package_html(total: total))
      end

      def operator_config(pages, **overrides)
        env = { "GITHUB_BASE_URL" => pages.base_url, "METRICS_ADDR" => "127.0.0.1:0", "GITHUB_RATE" => "100",
                "GITHUB_BURST" => "100", "WATCH_NAMESPACE" => namespace, "LOG_LEVEL" => ENV.fetch("OPERATOR_LOG_LEVEL", "warn") }
        Operator::Config.from_env(env, overrides)
      end

      # The real operator in this process; stopped (and its thread joined) after the example.
      # watches: a WatchControl to drop, expire or hold back its informers' watches.
      def start_operator(pages, watches: nil, **overrides)
        log = Operator::Log.new(io: ENV["OPERATOR_LOG"] ? $stderr : StringIO.new, level: ENV.fetch("OPERATOR_LOG_LEVEL", "info"))
        runtime = Operator::Runtime.new(config: operator_config(pages, **overrides), connection: connection,
                                        parser: parser, logger: log, watch_stream: watches)
        thread = Thread.new { runtime.run }
        (@runtimes ||= []) << [runtime, thread]
        runtime
      end

      def stop_operators
        Array(@runtimes).each do |runtime, thread|
          runtime.stop
          thread.join(30)
        end
        @runtimes = []
      end

      def apply_project(name, **spec)
        body = { apiVersion: "#{GROUP}/v1alpha1", kind: "Project", metadata: { name: name, namespace: namespace },
                 spec: { owner: "fluxcd" }.merge(spec) }
        api_for("projects").apply(body)
      end

      def project(name)
        api_for("projects").get(name, namespace)
      end

      def leaf(name)
        api_for("leaves").get(name, namespace)
      end

      def leaves
        api_for("leaves").list(namespace: namespace).first
      end

      def condition(object, type = "Ready")
        Array(object&.dig(:status, :conditions)).find { |c| c[:type] == type }
      end

      def ready?(object)
        condition(object)&.dig(:status) == "True"
      end

      def request_reconcile(plural, name, token = Time.now.strftime("%s%N"))
        kubectl!("annotate", "--overwrite", "-n", namespace, "#{plural}.#{GROUP}", name,
                 "reconcile.fluxcd.io/requestedAt=#{token}")
        token
      end

      # Polls until the block returns a truthy value; the deadline is generous because the
      # CPU is shared, and it is a failure bound, not a measurement. 90 s once ran out in a full
      # run right after an apiserver-restart example (CR lists answer 429 while storage
      # re-initialises, and the operator backs off).
      def wait_for(what, timeout: 180, interval: 0.2)
        deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
        last = nil
        loop do
          last = begin
            yield
          rescue Kubeclient::HttpError => e
            # A freshly installed CRD's watch cache answers 429 "storage is (re)initializing" for a moment.
            raise unless e.error_code == 429

            nil
          end
          return last if last

          if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
            raise RSpec::Expectations::ExpectationNotMetError, "timed out after #{timeout}s waiting for #{what}"
          end

          sleep interval
        end
      end

      # Ready (listing read, Leafs in place) and every Leaf Ready too.
      def wait_project_ready(name, packages: nil)
        wait_for("Project #{name} Ready=True and LeavesReady=True") do
          proj = project(name)
          proj if ready?(proj) && condition(proj, "LeavesReady")&.dig(:status) == "True" &&
                  (packages.nil? || proj.dig(:status, :packageCount) == packages)
        end
      end

      def kubectl!(*args)
        out, status = kube.kubectl(*args)
        raise "kubectl #{args.join(' ')} failed: #{kube.last_kubectl_stderr}" unless status.success?

        out
      end

      def free_port = StatsTracker::Testing::Kube::FreePort.pick

      def metrics_text(port)
        Net::HTTP.get(URI("http://127.0.0.1:#{port}/metrics"))
      rescue SystemCallError, IOError
        nil
      end

      def metric_value(text, name, labels = {})
        wanted = labels.map { |k, v| "#{k}=\"#{v}\"" }
        text.to_s.each_line.sum do |line|
          next 0 unless line.start_with?("#{name}{", "#{name} ")
          next 0 unless wanted.all? { |w| line.include?(w) }

          line.split.last.to_f
        end
      end
    end
  end
end

# The set-up every operator integration spec shares: the harness, a page server standing in
# for github.com, the CRDs, and the operators and page server stopped after each example.
RSpec.shared_context "an operator against the API server" do
  include StatsTracker::Testing::OperatorHarness

  let(:pages) { StatsTracker::Testing::PageServer.new.start }

  before { install_crds }

  after do
    stop_operators
    pages.stop
  end
end
