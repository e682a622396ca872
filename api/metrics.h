// Prometheus metrics (SPEC 5 `GET /metrics`): request counts and latency histograms per route,
// plus ledger gauges computed at scrape time. Process-wide, like every Prometheus client.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace encore::api {

// Cumulative latency buckets, Prometheus style. Not thread-safe: its owner locks.
struct LatencyHistogram {
  static constexpr std::array<double, 12> bucket_seconds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0};

  std::array<std::uint64_t, bucket_seconds.size()> buckets{};
  std::uint64_t count = 0;
  double sum_seconds = 0;

  void observe(std::chrono::microseconds latency);
  // The _bucket, _sum and _count lines of `name`; `labels` is empty or `a="x",b="y"`.
  void render(std::string& out, std::string_view name, std::string_view labels) const;
};

class Metrics {
 public:
  void observe(std::string_view method, std::string_view route, int status,
               std::chrono::microseconds latency);
  // The request series in Prometheus text format (gauges are appended by the route).
  std::string render_requests() const;

 private:
  struct Series {
    std::map<int, std::uint64_t> by_status;
    LatencyHistogram latency;
  };
  mutable std::mutex mutex_;
  // Keyed by "METHOD route"; routes are patterns (bounded by the route table), never raw paths.
  std::map<std::string, Series, std::less<>> series_;
};

Metrics& metrics();

}  // namespace encore::api
