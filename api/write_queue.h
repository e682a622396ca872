// The single writer with group commit (issue 4): every write request becomes a Job; one thread
// runs all jobs that arrived while the previous commit ran inside ONE transaction (one fsync),
// then completes them. Each job is isolated by the Writer's savepoints.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "api/metrics.h"
#include "ledger/ledger.h"

namespace encore::api {

class WriteQueue {
 public:
  // Runs inside the batch transaction. Throwing fails only this job (its savepoint is gone).
  using Job = std::function<void(Writer&)>;
  // Called on the writer thread after the batch committed (true) or failed to commit (false).
  using Done = std::function<void(bool committed)>;
  // Thrown by a job to fail its whole batch: nothing of the batch commits and every job's Done
  // gets false. For a failure after the job's operation released its savepoint, when something
  // that must commit with the operation's rows (its idempotency record) could not be written.
  struct AbortBatch : std::runtime_error {
    using std::runtime_error::runtime_error;
  };

  // Where a write's time goes, for /metrics: waiting for the writer (the oldest job of each
  // batch); before the batch's first job (the write lock, a WAL restart, BEGIN); running the
  // jobs; and the COMMIT with its fsync.
  struct Stats {
    std::uint64_t batches = 0;
    std::uint64_t jobs = 0;
    std::uint64_t failed_commits = 0;
    LatencyHistogram queue_wait;
    LatencyHistogram prepare;
    LatencyHistogram jobs_run;
    LatencyHistogram commit;
  };

  WriteQueue(Ledger& ledger, std::size_t max_queue_depth, std::size_t max_batch_jobs);
  ~WriteQueue();
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // False when the queue is full or stopped (the caller answers 503 `overloaded`).
  bool submit(Job job, Done done);
  // The next piece of a job already under way (submit_chunked_write): not refused for a full
  // queue, which would abandon a long maintenance job halfway whenever the tills saturate the
  // writer. Each running job has at most one piece queued, so the queue stays bounded. False
  // only when stopped.
  bool submit_continuation(Job job, Done done);
  // Finishes every queued job, then stops the thread.
  void stop();
  Stats stats() const;

 private:
  struct Item {
    Job job;
    Done done;
    std::chrono::steady_clock::time_point submitted_at;
  };
  void run();

  Ledger& ledger_;
  const std::size_t max_queue_depth_;
  const std::size_t max_batch_jobs_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  Stats stats_;
  std::thread thread_;
};

}  // namespace encore::api
