# frozen_string_literal: true

require "kubeclient"

module StatsTracker
  module Operator
    module Kube
      # kubeclient 4.9.3 reports failures three ways: HttpError with a code, HttpError with code nil
      # (rest-client timeouts), and unwrapped socket/TLS errors. One place decides what each means.
      module Errors
        module_function

        def code(error)
          error.respond_to?(:error_code) ? error.error_code : nil
        end

        def conflict?(error)
          error.is_a?(Kubeclient::HttpError) && code(error) == 409
        end

        def describe(error)
          c = code(error)
          c ? "HTTP #{c}: #{error.message}" : "#{error.class}: #{error.message}"
        end
      end
    end
  end
end
