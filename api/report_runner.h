// Runs reports (SPEC 8) one at a time on a thread of their own, so a scan over every member never
// occupies an I/O thread (with two of them, one long report would halve the server). Bounded: at
// most `max_queued` reports wait; more are refused and the route answers 503 `overloaded`.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace encore::api {

class ReportRunner {
 public:
  // Called exactly once: run == true to compute and answer; run == false to answer that the
  // report will not run (the server is stopping).
  using Job = std::function<void(bool run)>;

  explicit ReportRunner(std::size_t max_queued);
  ~ReportRunner();
  ReportRunner(const ReportRunner&) = delete;
  ReportRunner& operator=(const ReportRunner&) = delete;

  // False when the queue is full or the runner is stopping: `job` is not called.
  bool submit(Job job);
  // True once request_stop() or stop() was called: a running report should end early.
  bool stopping() const;
  // Asks the running report to end early and answers the queued ones (run == false), at once.
  void request_stop();
  // request_stop(), then waits for the running report. Idempotent.
  void stop();

 private:
  void loop();

  const std::size_t max_queued_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace encore::api
