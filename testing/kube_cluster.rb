# frozen_string_literal: true

require "fileutils"
require "json"
require "kubeclient"
require "open3"
require "securerandom"
require "tmpdir"

require_relative "kube/api_connection"
require_relative "kube/binaries"
require_relative "kube/cluster_api"
require_relative "kube/cluster_pki"
require_relative "kube/components/apiserver"
require_relative "kube/components/controller_manager"
require_relative "kube/components/etcd"
require_relative "kube/free_port"
require_relative "kube/kubeconfig_writer"
require_relative "kube/local_state"
require_relative "kube/reaper"
require_relative "kube/server_side_apply"
require_relative "kube/wait"
require_relative "kube/widget_fixture"

module StatsTracker
  module Testing
    # A real Kubernetes control plane for specs, the demo and people: etcd + kube-apiserver (envtest's
    # flags) + kube-controller-manager (garbage collector and namespace controllers only), on loopback
    # ephemeral ports, with a throwaway PKI and an admin client-certificate kubeconfig.
    # Processes run in their own process groups; stop (at_exit for .shared) and the Reaper watchdog
    # make sure none outlives the Ruby process that started it.
    class KubeCluster
      include Kube::ClusterApi

      NAME = "stats-tracker-kube"
      START_TIMEOUT = Integer(ENV.fetch("STATS_TRACKER_KUBE_START_TIMEOUT", "120"))

      @shared = nil
      @shared_error = nil
      @shared_lock = Mutex.new

      class << self
        # One cluster per process, started on first use, stopped at exit. A failed start is
        # remembered so every later kube example fails with the same clear error instead of retrying.
        def shared
          @shared_lock.synchronize do
            raise @shared_error if @shared_error
            return @shared if @shared

            cluster = new
            at_exit { cluster.stop }
            begin
              @shared = cluster.start
            rescue StandardError => e
              cluster.stop
              @shared_error = e
              raise
            end
          end
        end

        def shared_started? = !@shared.nil?
      end

      attr_reader :work_dir, :binaries, :timings, :last_kubectl_stderr

      # supervise: false leaves the processes running after this Ruby process exits (bin/kube-local up);
      # work_dir given means it is kept at stop, so logs and the kubeconfig stay for inspection.
      def initialize(binaries: Kube::Binaries.locate, work_dir: nil, supervise: true,
                     controllers: Kube::Components::ControllerManager::CONTROLLERS)
        @binaries = binaries
        @own_work_dir = work_dir.nil?
        @work_dir = work_dir || Dir.mktmpdir("stats-tracker-kube-")
        @supervise = supervise
        @controllers = controllers
        @timings = {}
        @started = false
      end

      def start
        return self if @started

        FileUtils.mkdir_p([log_dir, File.join(work_dir, "etcd")])
        if @supervise
          @reaper = Kube::Reaper.new
          @reaper.remove_on_abort(work_dir) if @own_work_dir
        end
        @pki = Kube::ClusterPki.new(dir: File.join(work_dir, "pki"))
        @ports = { etcd_client: Kube::FreePort.pick, etcd_peer: Kube::FreePort.pick,
                   apiserver: Kube::FreePort.pick, controller_manager: Kube::FreePort.pick }
        build_components
        write_kubeconfigs
        timed(:total) do
          start_etcd
          start_apiserver
          timed(:controller_manager) { @controller_manager.start(timeout: START_TIMEOUT) }
        end
        @started = true
        self
      end

      # Reverse order of start, so the apiserver never loses etcd while it still serves requests.
      def stop
        @controller_manager&.stop
        @apiserver&.stop
        @etcd&.stop
        @reaper&.close
        @reaper = nil
        FileUtils.rm_rf(work_dir) if @own_work_dir
        @started = false
        self
      end

      def api_url = "https://127.0.0.1:#{@ports.fetch(:apiserver)}"

      def kubeconfig_path = File.join(work_dir, "kubeconfig")

      def ssl_options
        { client_cert: @pki.admin.certificate, client_key: @pki.admin.key,
          ca_file: @pki.path(:serving_ca), verify_ssl: OpenSSL::SSL::VERIFY_PEER }
      end

      # The admin authenticates with its client certificate (in ssl_options), so no header is needed.
      def auth_options = {}

      def client(group: nil, version: "v1")
        url = group ? "#{api_url}/apis/#{group}" : "#{api_url}/api"
        Kubeclient::Client.new(url, version, ssl_options: ssl_options, auth_options: auth_options)
      end

      # Raw HTTPS for what kubeclient 4.9.3 cannot do; specs may use it for exact status codes.
      # As the admin by default, or as whoever a bearer token (token_for) identifies.
      def connection(bearer_token: nil)
        identity = bearer_token ? { bearer_token: bearer_token } : { client_cert: @pki.admin.certificate, client_key: @pki.admin.key }
        Kube::ApiConnection.new(url: api_url, ca_file: @pki.path(:serving_ca), **identity)
      end

      def stop_apiserver
        @apiserver.stop
        self
      end

      def start_apiserver
        timed(:apiserver) do
          @apiserver.start(timeout: START_TIMEOUT)
          wait_until_custom_resources_served
        end
        self
      end

      # with_etcd: true also restarts etcd from its data dir, proving the state is on disk.
      def restart_apiserver(with_etcd: false)
        stop_apiserver
        if with_etcd
          stop_etcd
          start_etcd
        end
        start_apiserver
      end

      def stop_etcd
        @etcd.stop
        self
      end

      def start_etcd
        timed(:etcd) { @etcd.start(timeout: START_TIMEOUT) }
        self
      end

      def apiserver_running? = @apiserver&.running? || false

      def kubectl(*args, stdin: nil)
        out, err, status = Open3.capture3({ "KUBECONFIG" => kubeconfig_path }, binaries.path("kubectl"),
                                          *args.map(&:to_s), stdin_data: stdin.to_s)
        @last_kubectl_stderr = err
        [out, status]
      end

      # Everything bin/kube-local needs to stop a cluster started by another process.
      def state
        { "work_dir" => work_dir, "kubeconfig" => kubeconfig_path, "api_url" => api_url,
          "process_groups" => [@controller_manager, @apiserver, @etcd].map(&:pid).compact }
      end

      def log_dir = File.join(work_dir, "logs")

      private

      def build_components
        @etcd = Kube::Components::Etcd.new(
          binary: binaries.path("etcd"), data_dir: File.join(work_dir, "etcd", "data"),
          client_port: @ports.fetch(:etcd_client), peer_port: @ports.fetch(:etcd_peer),
          log_path: File.join(log_dir, "etcd.log"), reaper: @reaper
        )
        @apiserver = Kube::Components::Apiserver.new(
          binary: binaries.path("kube-apiserver"), etcd_url: @etcd.url, port: @ports.fetch(:apiserver),
          pki: @pki, connection: connection, log_path: File.join(log_dir, "kube-apiserver.log"), reaper: @reaper
        )
        @controller_manager = Kube::Components::ControllerManager.new(
          binary: binaries.path("kube-controller-manager"), kubeconfig_path: controller_manager_kubeconfig_path,
          port: @ports.fetch(:controller_manager), cert_dir: File.join(work_dir, "controller-manager-certs"),
          log_path: File.join(log_dir, "kube-controller-manager.log"), reaper: @reaper, controllers: @controllers
        )
      end

      def controller_manager_kubeconfig_path = File.join(work_dir, "controller-manager.kubeconfig")

      def write_kubeconfigs
        common = { name: NAME, server: api_url, ca_pem: @pki.serving_ca.certificate_pem }
        Kube::KubeconfigWriter.write(path: kubeconfig_path, client: @pki.admin, **common)
        Kube::KubeconfigWriter.write(path: controller_manager_kubeconfig_path, client: @pki.controller_manager, **common)
      end

      # /readyz turns 200 before the watch caches of existing CRDs are rebuilt, so specs after a
      # restart wait for every served custom resource as if it had just been applied.
      def wait_until_custom_resources_served
        crds = connection.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")
        return unless crds.success?

        crds.json.fetch("items", []).each { |crd| wait_until_served(crd, timeout: START_TIMEOUT) }
      end

      def timed(key)
        started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        result = yield
        (@timings[key] ||= []) << (Process.clock_gettime(Process::CLOCK_MONOTONIC) - started).round(2)
        result
      end
    end
  end
end

require_relative "kube/rspec_integration"
