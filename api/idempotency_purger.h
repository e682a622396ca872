// Forgets idempotency records past their retention (SPEC 5: kept at least 30 days), so the table
// does not grow with every request the server ever answered. A thread wakes at start and every
// `interval`, and deletes old records through the writer in pieces of `piece_records`, each its
// own write operation queued behind the tills' writes, until none is left.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
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
    std::chrono::minutes retry_interval{1};  // after a pass that could not finish
    std::size_t piece_records = 500;
    // Between two pieces, so that clearing a backlog (the first start after an upgrade) does
    // not put a DELETE into every group commit. 500 records take ~20 ms; 5,000 took ~200 ms and
    // pushed paced purchases' p99 to 140-170 ms while a 131k-record backlog cleared
    // (PERFORMANCE.md).
    std::chrono::milliseconds pause_between_pieces{100};
  };

  IdempotencyPurger(const Clock& clock, WriteQueue& writes, Options options);
  ~IdempotencyPurger();
  IdempotencyPurger(const IdempotencyPurger&) = delete;
  IdempotencyPurger& operator=(const IdempotencyPurger&) = delete;

  // Ends the current pass at its next piece and joins the thread (before the writer stops).
  void stop();

 private:
  void run();
  // One piece, shared with its write job (it outlives a caller that stopped waiting).
  struct Piece;
  // One pass: pieces until one deletes fewer than piece_records. False when it stopped early
  // (stop(), a full write queue, a failed piece). `first`: the pass's first piece, already
  // queued (the start-up pass's, queued by the constructor).
  bool purge_old_records(TimePoint older_than, std::shared_ptr<Piece> first);
  // Queues one piece on the writer; null (logged) when the queue refused it.
  std::shared_ptr<Piece> submit_piece(TimePoint older_than);
  // Waits for a queued piece's commit: records deleted, or -1 (logged) when it failed.
  static std::int64_t await_piece(const std::shared_ptr<Piece>& piece);
  // Waits `how_long` or until stop(); false when stopping.
  bool sleep_for(std::chrono::milliseconds how_long);

  const Clock& clock_;
  WriteQueue& writes_;
  const Options options_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  // The start-up pass's first piece, queued by the constructor: it enters the write queue before
  // the server serves any request (so requests never find it queued between theirs).
  TimePoint startup_older_than_;
  std::shared_ptr<Piece> startup_piece_;
  std::thread thread_;  // last: starts once everything above is ready
};

}  // namespace encore::api
