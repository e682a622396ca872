#include "api/log.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <string>

#include "ledger/hash.h"

namespace encore::api {
namespace {

std::atomic<int> g_threshold{static_cast<int>(LogLevel::info)};
// Shared by writers of lines up to PIPE_BUF, exclusive for longer ones (see write_line).
std::shared_mutex g_long_line_mutex;

// Writes one whole line to stderr. A line of at most PIPE_BUF (4 KiB) bytes goes out in one
// write(2), and writers of such lines do not wait for each other: the kernel keeps the write
// whole against the other threads' writes, to a pipe (POSIX) and to a regular file (Linux
// serialises writes through a shared file offset, and O_APPEND writes are atomic). The earlier
// fwrite + fflush under a process-wide mutex held the lock across the syscall: in a balance run
// the two I/O threads spent 5.5% of the server's samples waiting on and waking each other there
// (docs/PERFORMANCE.md). A longer line (rare: a log() call with large fields) may take several
// writes on a pipe, so it is written under the exclusive lock: no short line lands inside it.
// Logging never fails the caller: after a write error the line is ended with a newline if
// possible, so the next line starts on its own.
void write_line(std::string_view text) {
  const bool long_line = text.size() > PIPE_BUF;
  std::shared_lock<std::shared_mutex> shared(g_long_line_mutex, std::defer_lock);
  std::unique_lock<std::shared_mutex> exclusive(g_long_line_mutex, std::defer_lock);
  if (long_line) {
    exclusive.lock();
  } else {
    shared.lock();
  }
  bool partial = false;
  while (!text.empty()) {
    const ssize_t written = ::write(STDERR_FILENO, text.data(), text.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      if (partial) {
        const ssize_t ignored = ::write(STDERR_FILENO, "\n", 1);
        (void)ignored;
      }
      return;
    }
    partial = true;
    text.remove_prefix(static_cast<std::size_t>(written));
  }
}

// RFC 3339 UTC with microseconds: sortable, and fine enough to line up with latency_us.
// The date-time part is formatted once per second per thread (it is on every request's path).
std::string timestamp_now() {
  using namespace std::chrono;
  thread_local std::time_t cached_second = -1;
  thread_local char cached[32] = {};
  thread_local std::size_t cached_length = 0;
  const auto now = system_clock::now();
  const auto micros = duration_cast<microseconds>(now.time_since_epoch()).count() % 1'000'000;
  const std::time_t seconds = system_clock::to_time_t(now);
  if (seconds != cached_second) {
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    cached_length = std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &utc);
    cached_second = seconds;
  }
  char buf[40];
  std::memcpy(buf, cached, cached_length);
  std::snprintf(buf + cached_length, sizeof buf - cached_length, ".%06lldZ",
                static_cast<long long>(micros));
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
  write_line(text);
}

namespace {

// A JSON string literal. Bytes outside printable ASCII become \u escapes (a byte >= 0x80 becomes
// U+FFFD, as the generic logger's `replace` handler does for invalid UTF-8; these fields are
// ASCII in practice: ids, HTTP methods, route patterns, key names).
void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      out.append("\\u00");
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xf]);
    } else if (c >= 0x80) {
      out.append("\\ufffd");
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

}  // namespace

void log_access(const AccessRecord& r) {
  if (!log_enabled(LogLevel::info)) return;
  std::string line;
  line.reserve(256);
  line.append("{\"ts\":\"")
      .append(timestamp_now())
      .append("\",\"level\":\"info\",\"msg\":\"request\"");
  line.append(",\"request_id\":");
  append_json_string(line, r.request_id);
  line.append(",\"method\":");
  append_json_string(line, r.method);
  line.append(",\"route\":");
  append_json_string(line, r.route);
  line.append(",\"status\":").append(std::to_string(r.status));
  line.append(",\"latency_us\":").append(std::to_string(r.latency_us));
  line.append(",\"key_name\":");
  if (r.key_name.empty()) {
    line.append("null");
  } else {
    append_json_string(line, r.key_name);
  }
  line.append("}\n");
  write_line(line);
}

std::string new_request_id() {
  thread_local std::mt19937_64 generator([] {
    const auto seed = random_hex(8);
    return std::stoull(seed, nullptr, 16);
  }());
  const std::uint64_t id = generator();
  return to_hex(reinterpret_cast<const std::uint8_t*>(&id), sizeof id);
}

}  // namespace encore::api
