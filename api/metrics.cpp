#include "api/metrics.h"

#include <cstdio>

namespace encore::api {

Metrics& metrics() {
  static Metrics instance;
  return instance;
}

void Metrics::observe(std::string_view method, std::string_view route, int status,
                      std::chrono::microseconds latency) {
  std::string key;
  key.reserve(method.size() + 1 + route.size());
  key.append(method).append(" ").append(route.empty() ? "unmatched" : route);
  const double seconds = static_cast<double>(latency.count()) / 1e6;
  std::lock_guard lock(mutex_);
  auto it = series_.find(key);
  if (it == series_.end()) it = series_.emplace(std::move(key), Series{}).first;
  auto& s = it->second;
  s.by_status[status] += 1;
  s.count += 1;
  s.sum_seconds += seconds;
  for (std::size_t i = 0; i < bucket_seconds.size(); ++i) {
    if (seconds <= bucket_seconds[i]) s.buckets[i] += 1;
  }
}

std::string Metrics::render_requests() const {
  std::string out =
      "# HELP encore_http_requests_total HTTP requests by method, route and status.\n"
      "# TYPE encore_http_requests_total counter\n";
  std::string hist =
      "# HELP encore_http_request_duration_seconds Request latency by method and route.\n"
      "# TYPE encore_http_request_duration_seconds histogram\n";
  char number[64];
  std::lock_guard lock(mutex_);
  for (const auto& [key, s] : series_) {
    auto space = key.find(' ');
    std::string labels =
        "method=\"" + key.substr(0, space) + "\",route=\"" + key.substr(space + 1) + "\"";
    for (const auto& [status, n] : s.by_status) {
      out += "encore_http_requests_total{" + labels + ",status=\"" + std::to_string(status) +
             "\"} " + std::to_string(n) + "\n";
    }
    for (std::size_t i = 0; i < bucket_seconds.size(); ++i) {
      std::snprintf(number, sizeof number, "%g", bucket_seconds[i]);
      hist += "encore_http_request_duration_seconds_bucket{" + labels + ",le=\"" + number + "\"} " +
              std::to_string(s.buckets[i]) + "\n";
    }
    hist += "encore_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
            std::to_string(s.count) + "\n";
    std::snprintf(number, sizeof number, "%.6f", s.sum_seconds);
    hist += "encore_http_request_duration_seconds_sum{" + labels + "} " + number + "\n";
    hist += "encore_http_request_duration_seconds_count{" + labels + "} " +
            std::to_string(s.count) + "\n";
  }
  return out + hist;
}

}  // namespace encore::api
