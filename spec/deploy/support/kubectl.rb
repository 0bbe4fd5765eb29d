# frozen_string_literal: true

require "open3"

module StatsTracker
  module Testing
    # The self-built kubectl against the test cluster, as a user would run it: server-side apply
    # (optionally --dry-run=server) of kustomize output. Keeps stderr, where kubectl reports
    # rejections and the API server's warnings (e.g. Pod Security violations).
    class DeployKubectl
      FIELD_MANAGER = "stats-tracker-deploy-spec"

      Result = Struct.new(:stdout, :stderr, :status, keyword_init: true) do
        def success? = status.success?
        def output = "#{stdout}#{stderr}"
      end

      def initialize(kube)
        @kube = kube
        @bin = Kube::Binaries.locate.path("kubectl")
      end

      def run(*args, stdin: nil)
        out, err, status = Open3.capture3(@bin, "--kubeconfig", @kube.kubeconfig_path, *args, stdin_data: stdin.to_s)
        Result.new(stdout: out, stderr: err, status: status)
      end

      def apply(yaml, dry_run: false)
        args = ["apply", "--server-side", "--force-conflicts", "--field-manager", FIELD_MANAGER, "-f", "-"]
        args << "--dry-run=server" if dry_run
        run(*args, stdin: yaml)
      end

      def apply!(yaml, dry_run: false)
        result = apply(yaml, dry_run: dry_run)
        raise "kubectl apply#{' --dry-run=server' if dry_run} failed:\n#{result.output}" unless result.success?

        result
      end

      def exists?(*resource)
        run("get", *resource, "-o", "name").success?
      end

      def delete(*resource)
        run("delete", "--ignore-not-found", "--wait=false", *resource)
      end
    end
  end
end
