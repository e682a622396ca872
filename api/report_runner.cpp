#include "api/report_runner.h"

#include <cassert>
#include <utility>

#include "api/log.h"

namespace encore::api {
namespace {

// A job must answer whatever happens: an exception escaping it would end the thread and leave
// its client waiting.
void call(const ReportRunner::Job& job, bool run) {
  try {
    job(run);
  } catch (const std::exception& e) {
    log_error("report job failed", {{"error", e.what()}});
  }
}

}  // namespace

ReportRunner::ReportRunner(std::size_t max_queued)
    : max_queued_(max_queued), thread_([this] { loop(); }) {
  assert(max_queued > 0);
}

ReportRunner::~ReportRunner() {
  stop();
}

bool ReportRunner::submit(Job job) {
  std::lock_guard lock(mutex_);
  if (stopping_ || queue_.size() >= max_queued_) return false;
  queue_.push_back(std::move(job));
  wake_.notify_one();
  return true;
}

bool ReportRunner::stopping() const {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void ReportRunner::request_stop() {
  std::deque<Job> refused;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    refused.swap(queue_);
    wake_.notify_one();
  }
  for (auto& job : refused) call(job, false);
}

void ReportRunner::stop() {
  request_stop();
  if (thread_.joinable()) thread_.join();
}

void ReportRunner::loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    // A job taken just before request_stop() still runs; it sees stopping() and ends early.
    call(job, true);
    job = nullptr;  // release what it holds (its connection's session) before waiting again
  }
}

}  // namespace encore::api
