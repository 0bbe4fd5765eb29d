# frozen_string_literal: true

require "fileutils"
require "json"

module StatsTracker
  module E2E
    # What a failed run needs once the node is gone: each operator Pod's logs (and the previous
    # container's, where one restarted) and every Event in the cluster, written as files before
    # teardown drains the Pods. Nothing here raises: a piece that cannot be fetched leaves a file
    # saying why, so the rest is still kept and teardown still runs.
    class ClusterLogs
      def initialize(node:, namespace:, selector:)
        @node = node
        @namespace = namespace
        @selector = selector
      end

      # Writes into dir (made if missing); returns the paths written.
      def write(dir)
        FileUtils.mkdir_p(dir)
        written = [keep(File.join(dir, "events.txt"), "get", "events", "-A", "-o", "wide")]
        listing = File.join(dir, "pods.json")
        written << keep(listing, "get", "pods", "-n", @namespace, "-l", @selector, "-o", "json")
        pods(listing).each do |pod|
          name = pod.dig("metadata", "name")
          written << keep(File.join(dir, "#{name}.log"), "logs", "-n", @namespace, name, "--all-containers", "--timestamps")
          Array(pod.dig("status", "containerStatuses")).select { |c| c["restartCount"].to_i.positive? }.each do |c|
            written << keep(File.join(dir, "#{name}.#{c["name"]}.previous.log"),
                            "logs", "-n", @namespace, name, "-c", c["name"], "--previous", "--timestamps")
          end
        end
        written
      end

      private

      def pods(listing)
        JSON.parse(File.read(listing)).fetch("items")
      rescue JSON::ParserError, KeyError
        [] # the listing file says why
      end

      def keep(path, *args)
        out, err, status = @node.kubectl(*args)
        File.write(path, status.success? ? out : "kubectl #{args.join(" ")} failed: #{err}")
        path
      rescue StandardError => e
        File.write(path, "kubectl #{args.join(" ")} could not run: #{e.class}: #{e.message}")
        path
      end
    end
  end
end
