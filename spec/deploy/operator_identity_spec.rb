# frozen_string_literal: true

require "yaml"
require_relative "support/sample_project_run"

# The operator from this checkout (`ruby operator/operator.rb`, a separate process) with nothing
# but the Deployment's env and a kubeconfig holding the manifests' ServiceAccount token: proves
# the RBAC in operator/deploy/base is enough for the real operator to do its whole job, and that
# the sample Project reaches a state Flux's health check (kstatus) accepts. The same run from the
# built image is in image_spec.rb.
RSpec.describe "the operator under operator/deploy's ServiceAccount", kube: true do
  def start_operator(env:, log:)
    kubeconfig = File.join(Dir.mktmpdir("sa-kubeconfig-"), "config")
    File.write(kubeconfig, YAML.dump(
                             "apiVersion" => "v1", "kind" => "Config", "current-context" => "operator",
                             "clusters" => [{ "name" => "test", "cluster" => { "server" => kube.api_url,
                                                                               "certificate-authority" => kube.ssl_options.fetch(:ca_file) } }],
                             "users" => [{ "name" => "operator", "user" => { "token" => operator_token } }],
                             "contexts" => [{ "name" => "operator", "context" => { "cluster" => "test", "user" => "operator",
                                                                                   "namespace" => "stats-tracker-system" } }]
                           ))
    Process.spawn(env.merge("KUBECONFIG" => kubeconfig), Gem.ruby, "operator/operator.rb",
                  chdir: File.expand_path("../..", __dir__),
                  in: File::NULL, out: log, err: log)
  end

  it_behaves_like "the sample Project reconciled under the manifests' identity"
end
