#include "api/idempotency_purger.h"

#include <future>
#include <memory>
#include <string>

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
  for (;;) {
    const bool finished = purge_old_records();
    const std::chrono::milliseconds next = finished ? options_.interval : options_.retry_interval;
    if (!sleep_for(next)) return;
  }
}

bool IdempotencyPurger::sleep_for(std::chrono::milliseconds how_long) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, how_long, [this] { return stopping_; });
  return !stopping_;
}

bool IdempotencyPurger::purge_old_records() {
  const TimePoint older_than = clock_.now() - options_.retention;
  std::int64_t purged = 0;
  bool finished = false;
  for (bool first = true;; first = false) {
    if (!first && !sleep_for(options_.pause_between_pieces)) break;
    const std::int64_t piece = purge_piece(older_than);
    if (piece < 0) break;
    purged += piece;
    if (piece < static_cast<std::int64_t>(options_.piece_records)) {
      finished = true;
      break;
    }
  }
  if (purged > 0) {
    log_info("purged idempotency records",
             {{"records", purged}, {"retention_days", options_.retention.count()}});
  }
  return finished;
}

std::int64_t IdempotencyPurger::purge_piece(TimePoint older_than) {
  // Shared with the job: it outlives this call if the writer finishes it late.
  struct Piece {
    std::int64_t deleted = -1;
    std::string error;
    std::promise<bool> committed;
  };
  auto piece = std::make_shared<Piece>();
  auto done = piece->committed.get_future();
  const bool queued = writes_.submit(
      [piece, older_than, limit = options_.piece_records](Writer& w) {
        try {
          auto deleted = w.purge_idempotency(older_than, limit);
          if (deleted) {
            piece->deleted = *deleted;
          } else {
            piece->error = deleted.error().detail;
          }
        } catch (const std::exception& e) {
          piece->error = e.what();  // rolled back; the batch goes on
        }
      },
      [piece](bool committed) { piece->committed.set_value(committed); });
  if (!queued) {
    log_warn("idempotency purge postponed: the write queue is full or stopping");
    return -1;
  }
  // The writer always completes a queued job, even while stopping (WriteQueue::stop drains).
  const bool committed = done.get();
  if (!committed || piece->deleted < 0) {
    log_error("idempotency purge failed", {{"committed", committed}, {"error", piece->error}});
    return -1;
  }
  return piece->deleted;
}

}  // namespace encore::api
