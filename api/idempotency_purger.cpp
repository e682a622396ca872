#include "api/idempotency_purger.h"

#include <future>
#include <memory>

#include "api/log.h"

namespace encore::api {

IdempotencyPurger::IdempotencyPurger(const Clock& clock, WriteQueue& writes, Options options)
    : clock_(clock), writes_(writes), options_(options), thread_([this] { run(); }) {}

IdempotencyPurger::~IdempotencyPurger() {
  stop();
}

void IdempotencyPurger::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void IdempotencyPurger::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    purge_old_records();
    lock.lock();
    wake_.wait_for(lock, options_.interval, [this] { return stopping_; });
  }
}

void IdempotencyPurger::purge_old_records() {
  const TimePoint older_than = clock_.now() - options_.retention;
  std::int64_t purged = 0;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) break;
    }
    const std::int64_t piece = purge_piece(older_than);
    if (piece < 0) break;  // the queue is full or stopping: the next pass goes on
    purged += piece;
    if (piece < static_cast<std::int64_t>(options_.piece_records)) break;
  }
  if (purged > 0) {
    log_info("purged idempotency records",
             {{"records", purged}, {"retention_days", options_.retention.count()}});
  }
}

std::int64_t IdempotencyPurger::purge_piece(TimePoint older_than) {
  // Shared with the job: it outlives this call if the writer finishes it late.
  struct Piece {
    std::int64_t deleted = 0;
    std::promise<bool> committed;
  };
  auto piece = std::make_shared<Piece>();
  auto done = piece->committed.get_future();
  const bool queued =
      writes_.submit([piece, older_than, limit = options_.piece_records](
                         Writer& w) { piece->deleted = w.purge_idempotency(older_than, limit); },
                     [piece](bool committed) { piece->committed.set_value(committed); });
  if (!queued) return -1;
  // The writer always completes a queued job, even while stopping (WriteQueue::stop drains).
  return done.get() ? piece->deleted : -1;
}

}  // namespace encore::api
