#include "api/metrics.h"

#include <cstdio>

namespace encore::api {

void LatencyHistogram::observe(std::chrono::microseconds latency) {
  const double seconds = static_cast<double>(latency.count()) / 1e6;
  count += 1;
  sum_seconds += seconds;
  for (std::size_t i = 0; i < bucket_seconds.size(); ++i) {
    if (seconds <= bucket_seconds[i]) buckets[i] += 1;
  }
}

void LatencyHistogram::render(std::string& out, std::string_view name,
                              std::string_view labels) const {
  const std::string prefix = std::string(labels) + (labels.empty() ? "" : ",");
  const std::string braces = labels.empty() ? "" : "{" + std::string(labels) + "}";
  char number[64];
  for (std::size_t i = 0; i < bucket_seconds.size(); ++i) {
    std::snprintf(number, sizeof number, "%g", bucket_seconds[i]);
    out.append(name).append("_bucket{").append(prefix).append("le=\"").append(number);
    out.append("\"} ").append(std::to_string(buckets[i])).append("\n");
  }
  out.append(name).append("_bucket{").append(prefix).append("le=\"+Inf\"} ");
  out.append(std::to_string(count)).append("\n");
  std::snprintf(number, sizeof number, "%.6f", sum_seconds);
  out.append(name).append("_sum").append(braces).append(" ").append(number).append("\n");
  out.append(name).append("_count").append(braces).append(" ");
  out.append(std::to_string(count)).append("\n");
}

Metrics& metrics() {
  static Metrics instance;
  return instance;
}

void Metrics::observe(std::string_view method, std::string_view route, int status,
                      std::chrono::microseconds latency) {
  std::string key;
  key.reserve(method.size() + 1 + route.size());
  key.append(method).append(" ").append(route.empty() ? "unmatched" : route);
  std::lock_guard lock(mutex_);
  auto it = series_.find(key);
  if (it == series_.end()) it = series_.emplace(std::move(key), Series{}).first;
  auto& s = it->second;
  s.by_status[status] += 1;
  s.latency.observe(latency);
}

std::string Metrics::render_requests() const {
  std::string out =
      "# HELP encore_http_requests_total HTTP requests by method, route and status.\n"
      "# TYPE encore_http_requests_total counter\n";
  std::string hist =
      "# HELP encore_http_request_duration_seconds Request latency by method and route.\n"
      "# TYPE encore_http_request_duration_seconds histogram\n";
  std::lock_guard lock(mutex_);
  for (const auto& [key, s] : series_) {
    auto space = key.find(' ');
    std::string labels =
        "method=\"" + key.substr(0, space) + "\",route=\"" + key.substr(space + 1) + "\"";
    for (const auto& [status, n] : s.by_status) {
      out += "encore_http_requests_total{" + labels + ",status=\"" + std::to_string(status) +
             "\"} " + std::to_string(n) + "\n";
    }
    s.latency.render(hist, "encore_http_request_duration_seconds", labels);
  }
  return out + hist;
}

}  // namespace encore::api
