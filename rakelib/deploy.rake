# frozen_string_literal: true

# Delivery manifests (operator/deploy): kustomize builds and their validation on the real API
# server (spec/deploy). kustomize itself is built once from the Go module proxy into the cache.
namespace :deploy do
  desc "Build the pinned kustomize CLI into the cache (spec/deploy/support/build_kustomize.sh)"
  task :kustomize do
    sh "spec/deploy/support/build_kustomize.sh"
  end

  desc "Print the kustomize build of operator/deploy/DIR (default overlays/production)"
  task :build, [:dir] => :kustomize do |_, args|
    kustomize = `spec/deploy/support/build_kustomize.sh`.strip
    sh kustomize, "build", File.join("operator/deploy", args.fetch(:dir, "overlays/production"))
  end

  desc "Validate the manifests: kustomize builds, server-side dry run and apply, RBAC, Flux CRD schemas"
  task spec: :kustomize do
    sh "rspec", "spec/deploy", "--tag", "~image"
  end
end
