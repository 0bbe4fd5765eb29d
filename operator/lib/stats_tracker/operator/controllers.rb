# frozen_string_literal: true

require_relative "leaf_controller"
require_relative "project_controller"
require_relative "controller/kind_controller"
require_relative "controller/write_conflicts"
require_relative "reconcilers/leaf"
require_relative "reconcilers/project"

module StatsTracker
  module Operator
    # The operator's two controllers as configurations of the generic KindController, wired
    # once for Runtime and for the simulation: Projects own Leafs (a Leaf's status change
    # re-aggregates its Project), and each kind's step does its API I/O.
    class Controllers
      attr_reader :project, :leaf

      # apis: { projects:, leaves: } ResourceApis; stores: { projects:, leaves: } caches;
      # world: what the reconcilers talk to (fetcher_for, parser, acquire, clock, ...);
      # leaf_world: what only the Leaf reconciler takes besides (the history recorder, spare GitHub
      # tokens and the pause for versions pages).
      def initialize(apis:, stores:, queue:, events:, metrics:, logger:, world:, on_rate_limited:,
                     leaf_world: {})
        Controller::WriteConflicts.register_metrics(metrics)
        @project = Controller::KindController.new(ProjectController::KIND, plural: "projects", store: stores.fetch(:projects))
                                             .owns("leaves", delay: ProjectController::AGGREGATE_DELAY)
        @leaf = Controller::KindController.new(LeafController::KIND, plural: "leaves", store: stores.fetch(:leaves))
        project_step = ProjectController.new(
          api: apis.fetch(:projects), leaf_api: apis.fetch(:leaves), store: stores.fetch(:projects),
          leaf_store: stores.fetch(:leaves), reconciler: Reconcilers::Project.new(**world), queue: queue, events: events,
          metrics: metrics, logger: logger.with(controller: "project"), on_rate_limited: on_rate_limited
        )
        leaf_step = LeafController.new(
          api: apis.fetch(:leaves), store: stores.fetch(:leaves), reconciler: Reconcilers::Leaf.new(**world, **leaf_world),
          queue: queue,
          events: events, metrics: metrics, logger: logger.with(controller: "leaf"), on_rate_limited: on_rate_limited,
          on_leaf_changed: ->(leaf) { @project.owned_changed(leaf) }
        )
        @project.run(project_step, queue: queue)
        @leaf.run(leaf_step, queue: queue)
      end

      def all
        [@project, @leaf]
      end

      # The informer handler for each plural: every controller that reconciles, owns or watches it.
      def handler(plural)
        (@handlers ||= {})[plural] ||= begin
          handlers = all.filter_map { |controller| controller.handler_for(plural) }
          raise ArgumentError, "no controller for #{plural}" if handlers.empty?

          ->(*args) { handlers.each { |h| h.call(*args) } }
        end
      end
    end
  end
end
