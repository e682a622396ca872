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
    queue_.push_back(Item{std::move(job), std::move(done)});
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

void WriteQueue::run() {
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
    bool committed = true;
    try {
      ledger_.write_batch([&](Writer& writer) {
        for (auto& item : batch) {
          try {
            item.job(writer);
          } catch (...) {
            // Only this job failed (Writer::isolated rolled it back); its Done reports it
            // through the state the job captured. The rest of the batch still commits.
          }
        }
      });
    } catch (...) {
      committed = false;
    }
    {
      std::lock_guard lock(mutex_);
      stats_.batches += 1;
      stats_.jobs += batch.size();
      if (!committed) stats_.failed_commits += 1;
    }
    for (auto& item : batch) item.done(committed);
    batch.clear();
  }
}

}  // namespace encore::api
