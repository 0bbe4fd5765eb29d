# frozen_string_literal: true

require "tmpdir"

module StatsTracker
  module Testing
    # Debian's chromium driven through chromedriver by selenium-webdriver, headless, with a
    # fresh profile per session; flags keep it off the network and working as root.
    module Browser
      CHROMIUM = "/usr/bin/chromium"
      CHROMEDRIVER = "/usr/bin/chromedriver"
      FLAGS = %w[--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
                 --disable-component-update --disable-sync --disable-dev-shm-usage].freeze

      module_function

      def available?
        File.executable?(CHROMIUM) && File.executable?(CHROMEDRIVER)
      end

      # Yields a Selenium driver; quits it and removes its profile afterwards.
      def session(width: 1200, height: 900)
        require "selenium-webdriver"
        Dir.mktmpdir("stats-tracker-chromium-") do |profile|
          options = Selenium::WebDriver::Chrome::Options.new(binary: CHROMIUM)
          (FLAGS + ["--user-data-dir=#{profile}", "--window-size=#{width},#{height}"]).each { |f| options.add_argument(f) }
          service = Selenium::WebDriver::Service.chrome(path: CHROMEDRIVER)
          driver = Selenium::WebDriver.for(:chrome, options: options, service: service)
          begin
            yield driver
          ensure
            driver.quit
          end
        end
      end
    end
  end
end
