#include "api/write_queue.h"

#include <vector>

namespace encore::api {

WriteQueue::WriteQueue(Ledger& ledger, std::size_t max_queue_depth, std::size_t max_batch_jobs)
    : ledger_(ledger),
      max_queue_depth_(max_queue_depth),
      max_batch_jobs_(max_batch_jobs),
      thread_([this] { run(); }) {}

WriteQueue::~WriteQueue() {
  stop();
}

bool WriteQueue::submit(Job job, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= max_queue_depth_) return false;
    queue_.push_back(Item{std::move(job), std::move(done), std::chrono::steady_clock::now()});
  }
  ready_.notify_one();
  return true;
}

bool WriteQueue::submit_continuation(Job job, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return false;
    queue_.push_back(Item{std::move(job), std::move(done), std::chrono::steady_clock::now()});
  }
  ready_.notify_one();
  return true;
}

void WriteQueue::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  ready_.notify_one();
  if (thread_.joinable()) thread_.join();
}

WriteQueue::Stats WriteQueue::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

namespace {

std::chrono::microseconds micros_between(std::chrono::steady_clock::time_point from,
                                         std::chrono::steady_clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::microseconds>(to - from);
}

}  // namespace

void WriteQueue::run() {
  using Clock = std::chrono::steady_clock;
  std::vector<Item> batch;
  batch.reserve(max_batch_jobs_);
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      while (!queue_.empty() && batch.size() < max_batch_jobs_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    const Clock::time_point started_at = Clock::now();
    Clock::time_point jobs_started_at = started_at;
    Clock::time_point jobs_done_at = started_at;
    bool committed = true;
    try {
      ledger_.write_batch([&](Writer& writer) {
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
    }
    for (auto& item : batch) item.done(committed);
    batch.clear();
  }
}

}  // namespace encore::api
