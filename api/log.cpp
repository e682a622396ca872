#include "api/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "ledger/hash.h"

namespace encore::api {
namespace {

std::atomic<int> g_threshold{static_cast<int>(LogLevel::info)};
std::mutex g_write_mutex;

// RFC 3339 UTC with microseconds: sortable, and fine enough to line up with latency_us.
std::string timestamp_now() {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const auto micros = duration_cast<microseconds>(now.time_since_epoch()).count() % 1'000'000;
  const std::time_t seconds = system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(micros));
  return buf;
}

}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view text) {
  if (text == "debug") return LogLevel::debug;
  if (text == "info") return LogLevel::info;
  if (text == "warn") return LogLevel::warn;
  if (text == "error") return LogLevel::error;
  return std::nullopt;
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warn:
      return "warn";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

void set_log_level(LogLevel level) {
  g_threshold.store(static_cast<int>(level));
}

bool log_enabled(LogLevel level) {
  return static_cast<int>(level) >= g_threshold.load();
}

void log(LogLevel level, std::string_view msg, const nlohmann::json& fields) {
  if (!log_enabled(level)) return;
  nlohmann::ordered_json line;
  line["ts"] = timestamp_now();
  line["level"] = to_string(level);
  line["msg"] = msg;
  if (fields.is_object()) {
    for (const auto& [key, value] : fields.items()) line[key] = value;
  }
  // `replace` keeps a stray invalid UTF-8 byte from throwing inside a logging call.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text.push_back('\n');
  // One fwrite under a mutex keeps lines from different I/O threads whole.
  std::lock_guard lock(g_write_mutex);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

std::string new_request_id() {
  return random_hex(8);
}

}  // namespace encore::api
