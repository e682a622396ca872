// Structured logs: one JSON object per line on stderr, so operators can ship them as-is.
// Never pass Authorization headers, API keys or request bodies as fields.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace encore::api {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

std::optional<LogLevel> parse_log_level(std::string_view text);
std::string_view to_string(LogLevel level);

// Process-wide threshold; lines below it are dropped before they are formatted.
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);

// Writes {"ts","level","msg", ...fields} as one line. `fields` must be a JSON object (or null).
void log(LogLevel level, std::string_view msg, const nlohmann::json& fields = nullptr);

inline void log_debug(std::string_view msg, const nlohmann::json& fields = nullptr) {
  log(LogLevel::debug, msg, fields);
}
inline void log_info(std::string_view msg, const nlohmann::json& fields = nullptr) {
  log(LogLevel::info, msg, fields);
}
inline void log_warn(std::string_view msg, const nlohmann::json& fields = nullptr) {
  log(LogLevel::warn, msg, fields);
}
inline void log_error(std::string_view msg, const nlohmann::json& fields = nullptr) {
  log(LogLevel::error, msg, fields);
}

// The per-request access line, at info level: the same JSON object as
// log_info("request", {request_id, method, route, status, latency_us, key_name}) would write,
// formatted straight into one string instead of through nlohmann (it runs for every request on
// the I/O threads). An empty key_name is written as null.
struct AccessRecord {
  std::string_view request_id;
  std::string_view method;
  std::string_view route;
  int status = 0;
  long long latency_us = 0;
  std::string_view key_name;
};
void log_access(const AccessRecord& record);

// 16 hex chars, unique enough to correlate one request's lines: a per-thread generator seeded
// from the CSPRNG (a CSPRNG call per request was 5% of a balance read's CPU; ids need not be
// unpredictable).
std::string new_request_id();

}  // namespace encore::api
