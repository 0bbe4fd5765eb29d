# frozen_string_literal: true

require "base64"
require_relative "kube/errors"

module StatsTracker
  module Operator
    # One Fetcher per GitHub token: the default (GITHUB_TOKEN) or the one in an object's
    # spec.secretRef Secret (key "token"), re-read at most every `ttl` seconds so a rotated token
    # is picked up without a restart. An object that names a Secret never falls back to the
    # default token when that Secret cannot be read: the operator-wide token is not for any
    # namespace to spend by naming a Secret that does not exist.
    class GithubTokens
      # The object's secretRef names a Secret that is missing, unreadable or has no "token" key.
      class SecretUnavailable < StatsTracker::Error; end

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
        secret = begin
          @secrets_api.get(name, namespace)
        rescue StandardError => e
          raise SecretUnavailable, "Secret #{namespace}/#{name} unreadable: #{Kube::Errors.describe(e)}"
        end
        raise SecretUnavailable, "Secret #{namespace}/#{name} not found" if secret.nil?

        encoded = secret.dig(:data, :token)
        raise SecretUnavailable, "Secret #{namespace}/#{name} has no key \"token\"" unless encoded

        token = Base64.decode64(encoded).strip
        raise SecretUnavailable, "Secret #{namespace}/#{name}: key \"token\" is empty" if token.empty?

        token
      end
    end
  end
end
