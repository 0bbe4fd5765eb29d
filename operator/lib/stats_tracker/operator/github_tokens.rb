# frozen_string_literal: true

require "base64"
require_relative "kube/errors"

module StatsTracker
  module Operator
    # One Fetcher per GitHub token: the default (GITHUB_TOKEN) or the one in an object's
    # spec.secretRef Secret (key "token"), re-read at most every `ttl` seconds so a rotated token
    # is picked up without a restart.
    class GithubTokens
      def initialize(secrets_api:, default_token:, build_fetcher:, logger:, ttl: 60,
                     clock: -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) })
        @secrets_api = secrets_api
        @default_token = default_token
        @build_fetcher = build_fetcher
        @logger = logger
        @ttl = ttl
        @clock = clock
        @fetchers = {}
        @secrets = {}
        @lock = Mutex.new
      end

      def fetcher_for(object)
        token = token_for(object)
        @lock.synchronize { @fetchers[token] ||= @build_fetcher.call(token) }
      end

      private

      def token_for(object)
        ref = object.dig(:spec, :secretRef, :name)
        return @default_token unless ref && @secrets_api

        key = "#{object.dig(:metadata, :namespace)}/#{ref}"
        cached = @lock.synchronize { @secrets[key] }
        return cached[:token] if cached && @clock.call - cached[:at] < @ttl

        token = read_secret(object.dig(:metadata, :namespace), ref)
        @lock.synchronize { @secrets[key] = { token: token, at: @clock.call } }
        token
      end

      def read_secret(namespace, name)
        secret = @secrets_api.get(name, namespace)
        encoded = secret&.dig(:data, :token)
        return Base64.strict_decode64(encoded).strip if encoded

        @logger.warn("secretRef has no 'token' key; using the default token", secret: "#{namespace}/#{name}")
        @default_token
      rescue StandardError => e
        @logger.warn("secretRef unreadable; using the default token", secret: "#{namespace}/#{name}",
                                                                      error: Kube::Errors.describe(e))
        @default_token
      end
    end
  end
end
