# frozen_string_literal: true

module StatsTracker
  module Testing
    module Kube
      # The harness's own test CRD (spec/fixtures/kube/widgets.crd.yaml) and helpers to build Widgets,
      # for specs that prove API-server behaviour independently of the operator's CRDs.
      module WidgetFixture
        CRD_PATH = File.expand_path("../../spec/fixtures/kube/widgets.crd.yaml", __dir__)
        CRD_NAME = "widgets.harness.stats-tracker.dev"
        GROUP = "harness.stats-tracker.dev"
        VERSION = "v1"
        API_VERSION = "#{GROUP}/#{VERSION}".freeze

        # Constants are not visible inside RSpec example blocks (their lexical scope is the spec file).
        def widget_crd_name = CRD_NAME
        def widget_group = GROUP
        def widget_version = VERSION
        def widget_api_version = API_VERSION

        # Server-side apply is idempotent, so installing before every example costs one PATCH.
        def install_widget_crd = kube.apply_yaml(CRD_PATH)

        def widgets = @widgets ||= kube.client(group: GROUP, version: VERSION)

        def widget(name, spec: { size: 1, color: "red" }, **metadata)
          { apiVersion: API_VERSION, kind: "Widget",
            metadata: { name: name, namespace: namespace }.merge(metadata), spec: spec }
        end

        def create_widget(name, **options)
          widgets.create_entity("Widget", "widgets", widget(name, **options))
        end

        def get_widget(name) = widgets.get_entity("widgets", name, namespace, as: :parsed)
      end
    end
  end
end
