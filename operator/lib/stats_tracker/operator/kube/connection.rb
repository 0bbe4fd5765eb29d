# frozen_string_literal: true

require "kubeclient"
require "openssl"
require "uri"
require_relative "token_source"
require_relative "keep_alive"

module StatsTracker
  module Operator
    module Kube
      # Where the API server is and how to authenticate: from a kubeconfig file or from the pod's
      # service account (kubeclient reads the kubeconfig); holds the kept-alive connections
      # every ResourceApi sends its calls on.
      class Connection
        SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

        attr_reader :server, :ssl_options, :auth_options, :token_source, :default_namespace

        def self.from_environment(env: ENV)
          if env["KUBECONFIG"] && !env["KUBECONFIG"].empty?
            from_kubeconfig(env["KUBECONFIG"].split(File::PATH_SEPARATOR).first)
          elsif File.exist?(File.join(SA_DIR, "token"))
            in_cluster(env: env)
          elsif File.exist?(File.join(Dir.home, ".kube", "config"))
            from_kubeconfig(File.join(Dir.home, ".kube", "config"))
          else
            raise ArgumentError, "no Kubernetes credentials: set KUBECONFIG or run in a pod"
          end
        end

        def self.from_kubeconfig(path)
          context = Kubeclient::Config.read(path).context
          new(server: context.api_endpoint, ssl_options: context.ssl_options, auth_options: context.auth_options,
              default_namespace: context.namespace)
        end

        def self.in_cluster(env: ENV)
          host = env.fetch("KUBERNETES_SERVICE_HOST")
          port = env.fetch("KUBERNETES_SERVICE_PORT", "443")
          host = "[#{host}]" if host.include?(":")
          new(server: "https://#{host}:#{port}",
              ssl_options: { ca_file: File.join(SA_DIR, "ca.crt"), verify_ssl: OpenSSL::SSL::VERIFY_PEER },
              auth_options: {}, token_source: TokenSource.new(path: File.join(SA_DIR, "token")),
              default_namespace: File.read(File.join(SA_DIR, "namespace")).strip)
        end

        def initialize(server:, ssl_options: {}, auth_options: {}, token_source: nil, default_namespace: nil)
          @server = server.to_s.chomp("/")
          @ssl_options = ssl_options
          @token_source = token_source
          @auth_options = auth_options
          if @token_source.nil? && auth_options[:bearer_token_file]
            @token_source = TokenSource.new(path: auth_options[:bearer_token_file])
            @auth_options = auth_options.except(:bearer_token_file)
          end
          @default_namespace = default_namespace
          @keep_alive = {}
          @keep_alive_lock = Mutex.new
        end

        # TLS settings for a hand-built Net::HTTP (watch streams, kept-alive API calls).
        def configure_tls(http)
          http.use_ssl = true
          http.verify_mode = @ssl_options.fetch(:verify_ssl, OpenSSL::SSL::VERIFY_PEER)
          http.ca_file = @ssl_options[:ca_file] if @ssl_options[:ca_file]
          http.cert_store = @ssl_options[:cert_store] if @ssl_options[:cert_store]
          http.cert = @ssl_options[:client_cert] if @ssl_options[:client_cert]
          http.key = @ssl_options[:client_key] if @ssl_options[:client_key]
        end

        # This thread's kept-alive connections with these timeouts; one KeepAlive per timeouts,
        # so every ResourceApi with the same timeouts shares a thread's connection.
        def keep_alive(open_timeout:, read_timeout:)
          @keep_alive_lock.synchronize do
            @keep_alive[[open_timeout, read_timeout]] ||=
              KeepAlive.new(connection: self, open_timeout: open_timeout, read_timeout: read_timeout)
          end
        end

        def connections_opened
          @keep_alive_lock.synchronize { @keep_alive.values }.sum(&:connections_opened)
        end

        # Ends every kept-alive connection (at shutdown).
        def close
          @keep_alive_lock.synchronize { @keep_alive.each_value(&:close) }
        end

        # Headers to add to a hand-built request (watch streams); nil when the client does TLS auth.
        def authorization
          return @token_source.authorization if @token_source
          return "Bearer #{@auth_options[:bearer_token]}" if @auth_options[:bearer_token]
          if @auth_options[:username]
            return "Basic #{["#{@auth_options[:username]}:#{@auth_options[:password]}"].pack('m0')}"
          end

          nil
        end
      end
    end
  end
end
