# frozen_string_literal: true

# The local Kubernetes control plane (etcd + kube-apiserver + kube-controller-manager), built from the
# Go module proxy into a cache outside the checkout and started by testing/kube_cluster.rb.
namespace :kube do
  desc "Build (once per pinned version) etcd, kube-apiserver, kube-controller-manager and kubectl"
  task :build do
    sh "testing/kube/build.sh"
  end

  desc "Start the local cluster in the background (bin/kube-local up); prints export KUBECONFIG=..."
  task up: :build do
    sh "bin/kube-local", "up", *ENV.fetch("KUBE_APPLY", "").split(",").flat_map { |p| ["--apply", p] }
  end

  desc "Stop the cluster started by kube:up"
  task :down do
    sh "bin/kube-local", "down"
  end

  desc "Run only the harness specs (spec/kube) against a fresh cluster"
  task spec: %i[compile build] do
    sh "rspec", "spec/kube"
  end
end
