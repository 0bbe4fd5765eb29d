# frozen_string_literal: true

module StatsTracker
  module Dashboard
    # How numbers read on the page: exact, grouped by thousands (a count may be 13 digits).
    module Numbers
      module_function

      def grouped(value)
        return "–" if value.nil?

        digits = value.abs.to_s.reverse.scan(/\d{1,3}/).join(",").reverse
        value.negative? ? "-#{digits}" : digits
      end

      def change(value)
        return "–" if value.nil?

        value.positive? ? "+#{grouped(value)}" : grouped(value)
      end
    end
  end
end
