// The single writer with group commit (issue 4): every write request becomes a Job; one thread
// runs all jobs that arrived while the previous commit ran inside ONE transaction, then hands the
// committed batch to a second thread that fsyncs the WAL and only then completes its jobs
// (pipelined durability: the writer runs batch N+1 while batch N's fdatasync runs, and one
// fdatasync covers every batch that committed before it). Each job is isolated by the Writer's
// savepoints. Batches complete in commit order. Once a sync fails nothing is acknowledged any
// more and every write is refused (durability_lost()): the kernel may have dropped pages that
// later commits follow.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "api/metrics.h"
#include "ledger/ledger.h"

namespace encore::api {

class WriteQueue {
 public:
  // Runs inside the batch transaction. Throwing fails only this job (its savepoint is gone).
  using Job = std::function<void(Writer&)>;
  // Called on the sync thread once the batch committed and is durable (true), or failed to
  // commit or to become durable (false).
  using Done = std::function<void(bool committed)>;
  // Makes every batch committed so far durable; false when it could not (Ledger::sync_wal).
  using Sync = std::function<bool()>;
  // Thrown by a job to fail its whole batch: nothing of the batch commits and every job's Done
  // gets false. For a failure after the job's operation released its savepoint, when something
  // that must commit with the operation's rows (its idempotency record) could not be written.
  struct AbortBatch : std::runtime_error {
    using std::runtime_error::runtime_error;
  };

  // Where a write's time goes, for /metrics: waiting for the writer (the oldest job of each
  // batch); before the batch's first job (the write lock, a WAL restart, BEGIN); running the
  // jobs; the COMMIT (WAL writes, publishing); and the WAL's fdatasync on the sync thread.
  struct Stats {
    std::uint64_t batches = 0;
    std::uint64_t jobs = 0;
    std::uint64_t failed_commits = 0;
    std::uint64_t syncs = 0;
    std::uint64_t failed_syncs = 0;
    LatencyHistogram queue_wait;
    LatencyHistogram prepare;
    LatencyHistogram jobs_run;
    LatencyHistogram commit;
    LatencyHistogram sync;
  };

  // `max_queue_depth` bounds the jobs waiting for the writer plus those waiting for their sync.
  WriteQueue(Ledger& ledger, std::size_t max_queue_depth, std::size_t max_batch_jobs);
  // With another sync than ledger.sync_wal() (tests hold or fail it).
  WriteQueue(Ledger& ledger, std::size_t max_queue_depth, std::size_t max_batch_jobs, Sync sync);
  ~WriteQueue();
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  // False when the queue is full, stopped or durability_lost() (the caller answers 503).
  bool submit(Job job, Done done);
  // The next piece of a job already under way (submit_chunked_write): not refused for a full
  // queue, which would abandon a long maintenance job halfway whenever the tills saturate the
  // writer. Each running job has at most one piece queued, so the queue stays bounded. False
  // only when stopped.
  bool submit_continuation(Job job, Done done);
  // Finishes every queued job and completes it, then stops both threads. Safe to call more than
  // once and from several threads (each returns once both threads are joined); not from a Done.
  void stop();
  Stats stats() const;
  // A WAL sync failed: writes are refused until the server restarts (SQLite recovers the WAL).
  bool durability_lost() const;

 private:
  struct Item {
    Job job;
    Done done;
    std::chrono::steady_clock::time_point submitted_at;
  };
  struct CommittedBatch {
    std::vector<Item> items;
    bool committed = false;
    bool sync_owed = false;
  };
  void run();
  void run_batch(std::vector<Item>& batch, bool durability_lost);
  void run_syncs();

  Ledger& ledger_;
  const std::size_t max_queue_depth_;
  const std::size_t max_batch_jobs_;
  const Sync sync_;
  std::mutex stop_mutex_;  // serialises stop()
  mutable std::mutex mutex_;
  std::condition_variable ready_;       // the writer: jobs queued, or stopping
  std::condition_variable sync_ready_;  // the sync thread: batches committed, or writer gone
  std::deque<Item> queue_;
  std::deque<CommittedBatch> awaiting_sync_;
  std::size_t awaiting_sync_jobs_ = 0;
  bool stopping_ = false;
  bool writer_gone_ = false;
  bool durability_lost_ = false;
  Stats stats_;
  // Last: they start once everything above is ready.
  std::thread sync_thread_;
  std::thread thread_;
};

}  // namespace encore::api
