#include "api/write_queue.h"

#include "api/log.h"

namespace encore::api {

WriteQueue::WriteQueue(Ledger& ledger, std::size_t max_queue_depth, std::size_t max_batch_jobs)
    : WriteQueue(ledger, max_queue_depth, max_batch_jobs, [&ledger] { return ledger.sync_wal(); }) {
}

WriteQueue::WriteQueue(Ledger& ledger, std::size_t max_queue_depth, std::size_t max_batch_jobs,
                       Sync sync)
    : ledger_(ledger),
      max_queue_depth_(max_queue_depth),
      max_batch_jobs_(max_batch_jobs),
      sync_(std::move(sync)),
      sync_thread_([this] { run_syncs(); }),
      thread_([this] { run(); }) {}

WriteQueue::~WriteQueue() {
  stop();
}

bool WriteQueue::submit(Job job, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || durability_lost_ || ledger_.durability_lost()) return false;
    if (queue_.size() + awaiting_sync_jobs_ >= max_queue_depth_) return false;
    queue_.push_back(Item{std::move(job), std::move(done), std::chrono::steady_clock::now()});
  }
  ready_.notify_one();
  return true;
}

bool WriteQueue::submit_continuation(Job job, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || durability_lost_ || ledger_.durability_lost()) return false;
    queue_.push_back(Item{std::move(job), std::move(done), std::chrono::steady_clock::now()});
  }
  ready_.notify_one();
  return true;
}

void WriteQueue::stop() {
  // One caller at a time: joining a thread from two threads at once is undefined. A later caller
  // finds both threads joined.
  std::lock_guard one_at_a_time(stop_mutex_);
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_one();
  if (thread_.joinable()) thread_.join();
  // The writer told the sync thread it is gone; the sync thread completes what is left.
  if (sync_thread_.joinable()) sync_thread_.join();
}

WriteQueue::Stats WriteQueue::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

bool WriteQueue::durability_lost() const {
  if (ledger_.durability_lost()) return true;  // e.g. the background checkpoint's sync failed
  std::lock_guard lock(mutex_);
  return durability_lost_;
}

namespace {

using Clock = std::chrono::steady_clock;

std::chrono::microseconds micros_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::microseconds>(to - from);
}

}  // namespace

void WriteQueue::run() {
  std::vector<Item> batch;
  for (;;) {
    batch.reserve(max_batch_jobs_);
    bool durability_lost = false;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) {  // stopping and drained
        writer_gone_ = true;
        break;
      }
      while (!queue_.empty() && batch.size() < max_batch_jobs_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      durability_lost = durability_lost_;
    }
    run_batch(batch, durability_lost);  // hands the batch over and leaves it empty
  }
  sync_ready_.notify_one();
}

void WriteQueue::run_batch(std::vector<Item>& batch, bool durability_lost) {
  const Clock::time_point started_at = Clock::now();
  Clock::time_point jobs_started_at = started_at;
  Clock::time_point jobs_done_at = started_at;
  // Jobs queued before a sync failed are not run: nothing could be acknowledged.
  bool committed = !durability_lost;
  bool sync_owed = false;
  if (committed) {
    try {
      sync_owed = ledger_.write_batch_deferring_sync([&](Writer& writer) {
        jobs_started_at = Clock::now();
        for (auto& item : batch) {
          try {
            item.job(writer);
          } catch (const AbortBatch&) {
            throw;  // write_batch rolls the whole batch back
          } catch (...) {
            // Only this job failed (Writer::isolated rolled it back); its Done reports it
            // through the state the job captured. The rest of the batch still commits.
          }
        }
        jobs_done_at = Clock::now();
      });
    } catch (...) {
      committed = false;
    }
  }
  const Clock::time_point finished_at = Clock::now();
  {
    std::lock_guard lock(mutex_);
    // The queue is FIFO, so the batch's first job waited longest.
    stats_.queue_wait.observe(micros_between(batch.front().submitted_at, started_at));
    if (committed) {
      stats_.prepare.observe(micros_between(started_at, jobs_started_at));
      stats_.jobs_run.observe(micros_between(jobs_started_at, jobs_done_at));
      stats_.commit.observe(micros_between(jobs_done_at, finished_at));
    }
    stats_.batches += 1;
    stats_.jobs += batch.size();
    if (!committed) stats_.failed_commits += 1;
    awaiting_sync_jobs_ += batch.size();
    awaiting_sync_.push_back(CommittedBatch{std::move(batch), committed, sync_owed});
  }
  batch.clear();  // moved from: valid but unspecified
  sync_ready_.notify_one();
}

void WriteQueue::run_syncs() {
  std::vector<CommittedBatch> taken;
  for (;;) {
    bool lost_before = false;
    {
      std::unique_lock lock(mutex_);
      sync_ready_.wait(lock, [&] { return writer_gone_ || !awaiting_sync_.empty(); });
      if (awaiting_sync_.empty()) return;  // the writer is gone and every batch completed
      while (!awaiting_sync_.empty()) {
        taken.push_back(std::move(awaiting_sync_.front()));
        awaiting_sync_.pop_front();
      }
      lost_before = durability_lost_;
    }
    bool owed = false;
    for (const auto& b : taken) owed = owed || (b.committed && b.sync_owed);
    // One fdatasync for every batch taken: each committed before it started.
    const Clock::time_point sync_started_at = Clock::now();
    const bool sync_failed = !lost_before && owed && !sync_();
    // The ledger's flag too: a background checkpoint may have met the failure first.
    const bool durable = !lost_before && !sync_failed && !ledger_.durability_lost();
    const Clock::time_point synced_at = Clock::now();
    std::size_t jobs = 0;
    for (const auto& b : taken) jobs += b.items.size();
    {
      std::lock_guard lock(mutex_);
      if (owed && durable) {
        stats_.syncs += 1;
        stats_.sync.observe(micros_between(sync_started_at, synced_at));
      }
      if (sync_failed) stats_.failed_syncs += 1;
      if (!durable) durability_lost_ = true;
      awaiting_sync_jobs_ -= jobs;
    }
    // The ledger logs the failure of its own sync once (Ledger::on_durability_lost).
    // In commit order. A job that fails here was committed but may not survive a crash: its
    // client retries with the same key and gets the stored answer if it did.
    for (auto& b : taken) {
      for (auto& item : b.items) item.done(b.committed && durable);
    }
    taken.clear();
  }
}

}  // namespace encore::api
