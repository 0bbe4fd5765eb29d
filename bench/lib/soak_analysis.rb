# frozen_string_literal: true

module Bench
  # What a soak's RSS samples say: the flatness verdict, the slope after warm-up, and the
  # per-refresh costs. Pure arithmetic over samples, so the criterion itself is unit-tested
  # (spec/bench/soak_analysis_spec.rb) apart from the minutes-long runs that feed it.
  #
  # Flatness criterion: RSS at the end (median of the last few samples) is within TOLERANCE
  # of RSS at the end of warm-up (median of the samples around that point). Warm-up is the
  # first quarter of the soak: every Leaf has been refreshed at least once by then, the
  # Ruby heap has grown to its working size, and the compiled parser is loaded.
  class SoakAnalysis
    TOLERANCE = 0.05
    WINDOW = 3 # samples on each side of a comparison point, so one noisy sample is not a verdict

    # samples: [{ t: seconds since soak start, rss_kib:, cpu_s:, github:, kube: }], ascending t.
    def initialize(samples, tolerance: TOLERANCE)
      raise ArgumentError, "a soak needs at least #{2 * WINDOW} samples, got #{samples.size}" if samples.size < 2 * WINDOW

      @samples = samples
      @tolerance = tolerance
    end

    def warm_up_end
      @samples.last[:t] / 4.0
    end

    def after_warm_up
      @samples.select { |s| s[:t] >= warm_up_end }
    end

    # Median RSS of the WINDOW samples that start at the end of warm-up.
    def warm_rss_kib
      median(after_warm_up.first(WINDOW).map { |s| s[:rss_kib] })
    end

    def end_rss_kib
      median(@samples.last(WINDOW).map { |s| s[:rss_kib] })
    end

    def max_rss_kib
      @samples.map { |s| s[:rss_kib] }.max
    end

    def growth
      (end_rss_kib - warm_rss_kib).fdiv(warm_rss_kib)
    end

    def flat?
      growth <= @tolerance
    end

    # Least-squares slope of RSS after warm-up, MiB per hour.
    def slope_mib_per_hour
      points = after_warm_up
      return 0.0 if points.size < 2

      mean_t = points.sum { |s| s[:t] } / points.size.to_f
      mean_r = points.sum { |s| s[:rss_kib] } / points.size.to_f
      num = points.sum { |s| (s[:t] - mean_t) * (s[:rss_kib] - mean_r) }
      den = points.sum { |s| (s[:t] - mean_t)**2 }
      den.zero? ? 0.0 : num / den * 3600 / 1024.0
    end

    # Refreshes after warm-up = GitHub requests (each Leaf refresh reads its package page once).
    def refreshes
      delta(:github)
    end

    def cpu_ms_per_refresh
      per_refresh(delta(:cpu_s) * 1000.0)
    end

    def kube_per_refresh
      per_refresh(delta(:kube))
    end

    def verdict
      format("%<flat>s: end %<end>.1f MiB vs %<warm>.1f MiB after warm-up (%<growth>+.1f %%, limit +%<limit>.0f %%)",
             flat: flat? ? "flat" : "GROWING", end: end_rss_kib / 1024.0, warm: warm_rss_kib / 1024.0,
             growth: growth * 100, limit: @tolerance * 100)
    end

    private

    def delta(field)
      points = after_warm_up
      points.last[field] - points.first[field]
    end

    def per_refresh(total)
      refreshes.positive? ? total / refreshes : nil
    end

    def median(values)
      sorted = values.sort
      mid = sorted.size / 2
      sorted.size.odd? ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2.0
    end
  end
end
