# frozen_string_literal: true

require "fileutils"
require "open3"
require "tmpdir"
require_relative "../cache_root"

module StatsTracker
  module E2E
    # bin/e2e's cosign key pair: the cosign testing/flux/build.sh builds (the version
    # source-controller links), and one key pair kept in the e2e cache, made once with an empty
    # password. A test key only: it signs what bin/e2e publishes to its own throwaway registry.
    class Signing
      BUILD = File.expand_path("../flux/build.sh", __dir__)

      def self.cosign = File.join(`#{BUILD} --print-dir cosign`.strip, "cosign")

      def self.missing_pieces
        File.executable?(cosign) ? [] : ["cosign (testing/flux/build.sh)"]
      end

      attr_reader :dir

      def initialize(dir: Testing::CacheRoot.join("e2e", "cosign-key"), cosign: self.class.cosign)
        @dir = dir
        @cosign = cosign
      end

      def private_key = File.join(dir, "cosign.key")

      def public_key = File.join(dir, "cosign.pub")

      # What rake release:publish needs to sign with this key pair.
      def env = { "SIGN_KEY" => private_key, "COSIGN" => @cosign, "COSIGN_PASSWORD" => "" }

      # Made in a directory of its own and renamed into place, so a concurrent prepare sees either
      # no key pair or a whole one, never a private key without its public half.
      def ensure_key_pair
        return self if File.file?(public_key) && File.file?(private_key)

        FileUtils.mkdir_p(File.dirname(dir))
        tmp = Dir.mktmpdir(".cosign-key-", File.dirname(dir))
        out, status = Open3.capture2e({ "COSIGN_PASSWORD" => "" }, @cosign, "generate-key-pair",
                                      "--output-key-prefix", File.join(tmp, "cosign"))
        raise "cosign generate-key-pair failed: #{out}" unless status.success?

        begin
          File.rename(tmp, dir)
        rescue Errno::ENOTEMPTY, Errno::EEXIST
          nil # another prepare put its pair in place first; theirs is as good as ours
        end
        self
      ensure
        FileUtils.rm_rf(tmp) if tmp
      end
    end
  end
end
