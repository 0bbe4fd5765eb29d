# frozen_string_literal: true

module StatsTracker
  module Operator
    module Controller
      # A minimal Prometheus registry (counters, gauges, histograms with labels) rendered in the
      # text exposition format 0.0.4. Debian has no prometheus-client gem that fits, and the
      # operator needs only these three types.
      class Metrics
        BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60].freeze

        def initialize
          @lock = Mutex.new
          @families = {}
        end

        def counter(name, help)
          family(name, :counter, help)
        end

        def gauge(name, help)
          family(name, :gauge, help)
        end

        def histogram(name, help)
          family(name, :histogram, help)
        end

        def increment(name, labels = {}, by = 1)
          @lock.synchronize { @families.fetch(name)[:values][labels.freeze] += by }
        end

        def set(name, labels, value)
          @lock.synchronize { @families.fetch(name)[:values][labels.freeze] = value }
        end

        def remove(name, labels)
          @lock.synchronize { @families.fetch(name)[:values].delete(labels) }
        end

        def observe(name, labels, value)
          @lock.synchronize do
            hist = @families.fetch(name)[:values][labels.freeze]
            hist = @families[name][:values][labels] = { buckets: Array.new(BUCKETS.size, 0), sum: 0.0, count: 0 } unless hist.is_a?(Hash)
            BUCKETS.each_with_index { |b, i| hist[:buckets][i] += 1 if value <= b }
            hist[:sum] += value
            hist[:count] += 1
          end
        end

        def value(name, labels = {})
          @lock.synchronize { @families.fetch(name)[:values][labels] }
        end

        # Gauges computed on scrape (queue depth) register a hook here.
        def before_render(&block)
          @hooks ||= []
          @hooks << block
        end

        def render
          Array(@hooks).each(&:call)
          @lock.synchronize do
            @families.map { |name, fam| render_family(name, fam) }.join
          end
        end

        private

        def family(name, type, help)
          @lock.synchronize { @families[name] ||= { type: type, help: help, values: Hash.new(0) } }
        end

        def render_family(name, fam)
          out = +"# HELP #{name} #{fam[:help]}\n# TYPE #{name} #{fam[:type]}\n"
          fam[:values].each do |labels, value|
            if fam[:type] == :histogram
              render_histogram(out, name, labels, value)
            else
              out << "#{name}#{label_text(labels)} #{number(value)}\n"
            end
          end
          out
        end

        def render_histogram(out, name, labels, hist)
          BUCKETS.each_with_index do |bound, i|
            out << "#{name}_bucket#{label_text(labels.merge(le: bound.to_s))} #{hist[:buckets][i]}\n"
          end
          out << "#{name}_bucket#{label_text(labels.merge(le: '+Inf'))} #{hist[:count]}\n"
          out << "#{name}_sum#{label_text(labels)} #{number(hist[:sum])}\n"
          out << "#{name}_count#{label_text(labels)} #{hist[:count]}\n"
        end

        def label_text(labels)
          return "" if labels.empty?

          "{#{labels.map { |k, v| "#{k}=\"#{escape(v)}\"" }.join(',')}}"
        end

        def escape(value)
          value.to_s.gsub("\\", "\\\\\\\\").gsub("\n", "\\n").gsub('"', '\\"')
        end

        def number(value)
          value.is_a?(Float) ? value.to_s : value.to_i.to_s
        end
      end
    end
  end
end
