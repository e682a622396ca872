// Time is injected: rules never call now() themselves, so tests can move time.
#pragma once

#include <atomic>
#include <chrono>

namespace encore {

// Encore's time type: UTC seconds (the wire format has second resolution).
using TimePoint = std::chrono::sys_seconds;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  // The server time written to entries' recorded_at (SPEC 2). It differs from now() only while a
  // tool replays history at business times (`encore-admin import` moves now() to each row's
  // earned_at, while the entries are recorded at the time of the import).
  virtual TimePoint recorded_now() const { return now(); }
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override;
};

// A clock a test sets and advances. Thread-safe so server tests may share it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : seconds_(start.time_since_epoch().count()) {}
  TimePoint now() const override { return TimePoint{std::chrono::seconds{seconds_.load()}}; }
  void set(TimePoint t) { seconds_.store(t.time_since_epoch().count()); }
  void advance(std::chrono::seconds d) { seconds_.fetch_add(d.count()); }

 private:
  std::atomic<std::int64_t> seconds_;
};

}  // namespace encore
