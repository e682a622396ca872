// Forgets idempotency records past their retention (SPEC 5: kept at least 30 days), so the table
// does not grow with every request the server ever answered. A thread wakes at start and every
// `interval`, and deletes old records through the writer in pieces of `piece_records`, each its
// own write operation queued behind the tills' writes, until none is left.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <thread>

#include "api/write_queue.h"
#include "ledger/ledger.h"

namespace encore::api {

class IdempotencyPurger {
 public:
  struct Options {
    std::chrono::days retention{31};
    std::chrono::minutes interval{60};
    std::size_t piece_records = 5000;
  };

  IdempotencyPurger(const Clock& clock, WriteQueue& writes, Options options);
  ~IdempotencyPurger();
  IdempotencyPurger(const IdempotencyPurger&) = delete;
  IdempotencyPurger& operator=(const IdempotencyPurger&) = delete;

  // Ends the current pass at its next piece and joins the thread (before the writer stops).
  void stop();

 private:
  void run();
  // One pass: pieces until one deletes fewer than piece_records (or stop()).
  void purge_old_records();
  // Runs one piece through the writer and waits for its commit; -1 when it could not run.
  std::int64_t purge_piece(TimePoint older_than);

  const Clock& clock_;
  WriteQueue& writes_;
  const Options options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace encore::api
