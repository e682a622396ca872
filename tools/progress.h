// A progress bar with rate and ETA for long operations (verify, export). It draws on stderr only
// when stderr is a terminal (and TERM is not "dumb"); otherwise every call is a no-op, so piped
// and logged output stays clean.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace encore::admin {

class Progress {
 public:
  // `total` may be 0 when unknown (then no percentage or ETA is shown).
  Progress(std::string label, std::int64_t total);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool enabled() const { return enabled_; }
  void update(std::int64_t done);                         // redraws at most ten times a second
  void set_total(std::int64_t total) { total_ = total; }  // once it is known (backup pages)
  void finish();                                          // erases the bar

 private:
  void draw(std::int64_t done);

  std::string label_;
  std::int64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
};

// True when `fd` is a terminal that can take carriage-return redraws.
bool is_interactive(int fd);

}  // namespace encore::admin
