# frozen_string_literal: true

require_relative "object_key"
require_relative "../reconcilers/schedule"

module StatsTracker
  module Operator
    module Controller
      # The generic part of every controller: which watch events of its kind ask for a
      # reconcile (a new object, a new generation, a new requestedAt token; not status-only
      # changes, usually our own writes), which events of the kinds it owns re-run the owner (a
      # status change of an owned object, debounced, as an :aggregate reason), and handing a
      # queued key's cached object to the kind's reconcile step. Built as
      #
      #   KindController.new(:project, store: projects).owns("Project", delay: 1.0).run(step, queue: queue)
      #
      # where step answers reconcile(key, object) -> Symbol and, optionally, forget(object).
      class KindController
        attr_reader :kind

        def initialize(kind, store:)
          @kind = kind
          @store = store
          @owns = nil
        end

        # Events of objects whose controller ownerReference is of `owner_kind` re-run that owner
        # `delay` seconds later (many owned objects report within moments of each other).
        def owns(owner_kind, delay:)
          @owns = { owner_kind: owner_kind, delay: delay }
          self
        end

        def run(step, queue:)
          @step = step
          @queue = queue
          self
        end

        def handles?(key)
          key.kind == @kind
        end

        # Informer callback for this kind.
        def on_event(type, object, previous)
          if type == :delete
            @step.forget(object) if @step.respond_to?(:forget)
          elsif Reconcilers::Schedule.changed_by_user?(object, previous)
            @queue.add(ObjectKey.for(@kind, object))
          end
        end

        # Informer callback for an owned kind (and the owned kind's own status writes, whose
        # watch events will find the cache already up to date).
        def on_owned_event(type, object, previous)
          return unless type == :delete || previous.nil? || previous[:status] != object[:status]

          owned_changed(object)
        end

        def owned_changed(object)
          owner = Array(object.dig(:metadata, :ownerReferences)).find { |ref| ref[:controller] }
          return unless @owns && owner && owner[:kind] == @owns[:owner_kind]

          key = ObjectKey.new(@kind, object.dig(:metadata, :namespace), owner[:name])
          @queue.add_after(key, @owns[:delay], reason: :aggregate)
        end

        def reconcile(key)
          object = @store.get(key.store_key)
          return :gone if object.nil? || object.dig(:metadata, :deletionTimestamp)

          @step.reconcile(key, object)
        end
      end
    end
  end
end
