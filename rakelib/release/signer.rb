# frozen_string_literal: true

require "open3"

module Release
  class SignError < StandardError; end

  # Signs pushed images and artifacts with cosign and a key pair, offline: the signature goes to
  # the registry next to what it signs (a sigstore bundle under the referrers tag sha256-<digest>)
  # and nowhere else, since a private registry's artifacts have no business in a public
  # transparency log. Flux's OCIRepository `spec.verify` with the public key checks it the same way.
  class Signer
    # Without the signing config cosign 3 refuses to sign with the transparency log off.
    OFFLINE = %w[--use-signing-config=false --tlog-upload=false].freeze
    PLAIN_HTTP = %w[--allow-http-registry --allow-insecure-registry].freeze

    # key: a cosign private key file (its password, if any, in COSIGN_PASSWORD); cosign: the binary.
    def initialize(key:, cosign: "cosign", insecure: false)
      raise SignError, "SIGN_KEY=#{key}: no such file (make one with `cosign generate-key-pair`)" unless File.file?(key)

      @key = key
      @cosign = cosign
      @insecure = insecure
    end

    # ref: registry/repository@sha256:… (a digest, never a tag: a tag can move between push and sign).
    def command(ref)
      raise ArgumentError, "sign a digest, not a tag: #{ref}" unless ref.match?(/@sha256:\h{64}\z/)

      [@cosign, "sign", "--key", @key, *OFFLINE, *(@insecure ? PLAIN_HTTP : []), "-y", ref]
    end

    def sign(ref)
      out, status = Open3.capture2e(*command(ref))
      raise SignError, "cosign sign #{ref} failed: #{out.lines.last(5).join.strip}" unless status.success?

      ref
    rescue SystemCallError => e
      raise SignError, "cannot run #{@cosign} (COSIGN= names the binary; testing/flux/build.sh builds it): #{e.message}"
    end
  end
end
