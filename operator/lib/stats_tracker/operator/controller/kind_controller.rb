# frozen_string_literal: true

require_relative "object_key"
require_relative "../reconcilers/schedule"

module StatsTracker
  module Operator
    module Controller
      # The generic part of every controller, after kube-rs's Controller: which watch events of
      # its own kind ask for a reconcile (a new object, a new generation, a new requestedAt token;
      # not status-only changes, usually our own writes), which events of other kinds map to keys
      # of this kind (#watches, and #owns for objects this kind controls), and handing a queued
      # key's cached object to the kind's reconcile step. Built as
      #
      #   KindController.new(:project, plural: "projects", store: projects)
      #                 .owns("leaves", delay: 1.0)
      #                 .watches("secrets") { |secret| projects_naming(secret) }
      #                 .run(step, queue: queue)
      #
      # where step answers reconcile(key, object) -> Symbol and, optionally, forget(object).
      class KindController
        # Owned objects re-run their owner when they come, go, or their status changes.
        STATUS_CHANGED = lambda do |type, object, previous|
          type == :delete || previous.nil? || previous[:status] != object[:status]
        end

        attr_reader :kind, :plural

        def initialize(kind, plural:, store:)
          @kind = kind
          @plural = plural
          @store = store
          @watches = []
          @owned = nil
        end

        # Events on `plural` objects re-run the objects of this kind that `mapper` names
        # ([[namespace, name], ...]), `delay` seconds later as `reason`. `filter` picks the events
        # that matter (type, object, previous); every event by default.
        def watches(plural, delay: 0, reason: :watched, filter: ->(_type, _object, _previous) { true }, &mapper)
          raise ArgumentError, "watches(#{plural.inspect}) needs a block mapping an object to keys" unless mapper

          @watches << { plural: plural, delay: delay, reason: reason, filter: filter, mapper: mapper }
          self
        end

        # Objects of `plural` whose controller ownerReference is an object of this kind re-run it
        # `delay` seconds later, as an :aggregate (many owned objects report within moments of
        # each other).
        def owns(plural, delay:)
          @owned = { plural: plural, delay: delay, reason: :aggregate, filter: STATUS_CHANGED, mapper: method(:owner_of) }
          @watches << @owned
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

        # The informer handler this controller wants for `plural`'s events, or nil.
        def handler_for(plural)
          watched = @watches.select { |w| w[:plural] == plural }
          own = plural == @plural
          return nil if watched.empty? && !own

          lambda do |type, object, previous|
            on_event(type, object, previous) if own
            watched.each { |w| map(w, object) if w[:filter].call(type, object, previous) }
          end
        end

        # Informer callback for this kind.
        def on_event(type, object, previous)
          if type == :delete
            @step.forget(object) if @step.respond_to?(:forget)
          elsif Reconcilers::Schedule.changed_by_user?(object, previous)
            @queue.add(ObjectKey.for(@kind, object))
          end
        end

        # An owned object's status was just written (its watch event will find the cache already
        # up to date, so the writer says so here).
        def owned_changed(object)
          map(@owned, object) if @owned
        end

        def reconcile(key)
          object = @store.get(key.store_key)
          return :gone if object.nil? || object.dig(:metadata, :deletionTimestamp)

          @step.reconcile(key, object)
        end

        private

        def map(watch, object)
          Array(watch[:mapper].call(object)).each do |namespace, name|
            @queue.add_after(ObjectKey.new(@kind, namespace, name), watch[:delay], reason: watch[:reason])
          end
        end

        def owner_of(object)
          owner = Array(object.dig(:metadata, :ownerReferences)).find { |ref| ref[:controller] }
          return [] unless owner && kind_of_name(owner[:kind]) == @kind

          [[object.dig(:metadata, :namespace), owner[:name]]]
        end

        # "Project" -> :project, "ParserSource" -> :parser_source: ObjectKey kinds are the API
        # kinds in snake case.
        def kind_of_name(name)
          name.to_s.gsub(/(?<=[a-z0-9])([A-Z])/, '_\1').downcase.to_sym
        end
      end
    end
  end
end
