# frozen_string_literal: true

require "net/http"
require "openssl"

module StatsTracker
  module E2E
    module Node
      # Readiness probes for node components: plain HTTP, or TLS with the self-signed serving
      # certificate those components make for themselves. Relies on Component#probe, which turns
      # "connection refused while starting" into false.
      module HttpProbe
        private

        def http_ok?(port, path, host: "127.0.0.1", tls: false)
          probe do
            http = Net::HTTP.new(host, port)
            http.use_ssl = tls
            http.verify_mode = OpenSSL::SSL::VERIFY_NONE if tls
            http.open_timeout = http.read_timeout = 2
            http.start { |h| h.get(path) }.code == "200"
          end
        end

        def https_ok?(port, path, host: "127.0.0.1") = http_ok?(port, path, host: host, tls: true)
      end
    end
  end
end
