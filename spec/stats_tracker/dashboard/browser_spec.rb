# frozen_string_literal: true

require "fileutils"
require "stats_tracker/dashboard"

# The dashboard in a real browser (Debian's chromium, headless): what a person sees must be
# what the store holds, links must lead somewhere, hostile names must stay text, and the
# page must fit a phone. Screenshots go to SCREENSHOT_DIR (docs/ for the README) or a tmpdir.
RSpec.describe "dashboard in chromium" do
  let(:day) { 86_400 }
  let(:now) { Time.utc(2026, 12, 1, 12) }
  let(:hostile) { %(<img src=x onerror="document.title='pwned'">"') }

  around do |example|
    Dir.mktmpdir("dashboard-browser-") do |dir|
      @dir = dir
      example.run
    end
  end

  let(:store) { StatsTracker::History.open(url: "sqlite://#{File.join(@dir, 'h.sqlite3')}", retention_days: nil) }
  let(:server) { StatsTracker::Dashboard::Server.new(history: store, listen: "127.0.0.1:0").start }
  let(:shots) { ENV.fetch("SCREENSHOT_DIR") { @dir } }

  after do
    server.stop
    store.close
  end

  def stats(total, first_day: nil, counts: nil)
    bars = counts&.each_with_index&.map { |c, i| StatsTracker::DailyCount.new(date: first_day + i, count: c) }
    StatsTracker::PackageStats.new(total_downloads: total, last_30_days: bars)
  end

  # A month of a growing package: ten observations, GitHub's 30 bars, three tags.
  def fill
    bars = (0...30).map { |i| 40_000 + ((i * 7919) % 23_000) }
    totals = (0...10).map { |i| 12_000_000 + (i * 330_000) + ((i * i) * 9_000) }
    totals.each_with_index do |total, i|
      versions = if i == 9
                   [%w[v2.3.1 51_234], %w[v2.3.0 480_112], %w[latest 9_876_543]].map do |t, d|
                     StatsTracker::VersionDownloads.new(tag: t, downloads: Integer(d.delete("_")))
                   end
                 end
      store.record(owner: "fluxcd", package: "flux-cli", stats: stats(total, first_day: Date.new(2026, 11, 1), counts: bars),
                   versions: versions, at: now - ((9 - i) * 3 * day))
    end
    store.record(owner: "fluxcd", package: "charts/flagger", stats: stats(4_123_456_789_012), at: now)
    store.record(owner: "fluxcd", package: "source-controller", stats: stats(0, first_day: Date.new(2026, 11, 1), counts: [0] * 30),
                 at: now)
    store.record(owner: "acme", package: hostile, stats: stats(42), at: now)
  end

  def no_horizontal_scroll?(driver)
    driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
  end

  before do
    skip "chromium and chromium-driver are not installed (bin/setup installs them)" unless StatsTracker::Testing::Browser.available?
  end

  it "lists every stored package, escapes a hostile name, and follows a link to a chart that matches the store" do
    fill
    StatsTracker::Testing::Browser.session do |driver|
      driver.navigate.to(server.url)
      links = driver.find_elements(css: "a.package")
      expect(links.map(&:text)).to match_array(store.packages.map { |s| "#{s.owner}/#{s.name}" })
      expect(driver.find_elements(css: "table img")).to be_empty
      expect(driver.title).not_to eq("pwned")
      expect(driver.page_source).not_to include("<img src=x")
      expect(driver.find_element(css: "body").text).to include("4,123,456,789,012")
      driver.save_screenshot(File.join(shots, "dashboard-index.png"))

      links.find { |a| a.text == "fluxcd/flux-cli" }.click
      expect(URI(driver.current_url).path).to eq("/packages/fluxcd/flux-cli")

      points = driver.find_elements(css: "#totals circle.point").map do |c|
        [c.attribute("data-time"), Integer(c.attribute("data-value")), Float(c.attribute("cy"))]
      end
      stored = store.observations(owner: "fluxcd", package: "flux-cli")
      expect(points.map { |t, v, _| [t, v] }).to eq(stored.map { |o| [o.observed_at.iso8601, o.total_downloads] })
      # Drawn where the values say: a larger total sits higher (smaller y).
      expect(points.sort_by { |_, v, _| v }.map(&:last)).to eq(points.map(&:last).sort.reverse)

      bars = driver.find_elements(css: "#daily rect.bar").map { |r| [r.attribute("data-date"), Integer(r.attribute("data-value"))] }
      expect(bars).to eq(store.daily_counts(owner: "fluxcd", package: "flux-cli").map { |d| [d.date.iso8601, d.count] })
      expect(driver.find_elements(css: "#versions tbody tr").map(&:text))
        .to eq(["latest 9,876,543", "v2.3.0 480,112", "v2.3.1 51,234"])
      expect(driver.find_element(id: "total").text).to eq("15,699,000")
      driver.save_screenshot(File.join(shots, "dashboard-package.png"))

      driver.find_element(link_text: "← all packages").click
      expect(URI(driver.current_url).path).to eq("/")
      driver.find_elements(css: "a.package").find { |a| a.text.start_with?("acme/") }.click
      expect(driver.find_element(css: "h1").text).to eq("acme/#{hostile}")
      expect(driver.find_elements(css: "h1 img")).to be_empty
      driver.find_element(link_text: "← all packages").click
      driver.find_elements(css: "a.package").find { |a| a.text == "fluxcd/charts/flagger" }.click
      expect(URI(driver.current_url).path).to eq("/packages/fluxcd/charts%2Fflagger")
      expect(driver.find_element(id: "total").text).to eq("4,123,456,789,012")
    end
  end

  it "stays readable at phone width" do
    fill
    StatsTracker::Testing::Browser.session do |driver|
      # A desktop window cannot be narrower than ~500 px; emulate the phone's viewport instead.
      driver.execute_cdp("Emulation.setDeviceMetricsOverride", width: 390, height: 844, deviceScaleFactor: 2, mobile: true)
      driver.navigate.to(server.url)
      expect(driver.execute_script("return window.innerWidth")).to eq(390)
      expect(no_horizontal_scroll?(driver)).to be(true)
      expect(driver.execute_script("const s = document.querySelector('.scroll'); return s.scrollWidth <= s.clientWidth"))
        .to be(true)
      expect(driver.find_element(css: "tbody").text).to include("+1,539,765")
      driver.save_screenshot(File.join(shots, "dashboard-index-phone.png"))
      driver.navigate.to("#{server.url.chomp('/')}/packages/fluxcd/flux-cli")
      expect(no_horizontal_scroll?(driver)).to be(true)
      expect(driver.find_element(css: "#totals svg").size.width).to be <= 390
    end
  end

  it "says so when nothing is recorded yet, and answers an unknown package with 404" do
    StatsTracker::Testing::Browser.session do |driver|
      driver.navigate.to(server.url)
      expect(driver.find_element(css: "body").text).to include("Nothing recorded yet")
      driver.navigate.to("#{server.url.chomp('/')}/packages/nobody/nothing")
      expect(driver.find_element(css: "h1").text).to eq("Not found")
    end
  end
end
