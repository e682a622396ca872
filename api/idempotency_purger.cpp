#include "api/idempotency_purger.h"

#include <future>
#include <memory>
#include <string>

#include "api/log.h"

namespace encore::api {

struct IdempotencyPurger::Piece {
  std::int64_t deleted = -1;
  std::string error;
  std::promise<bool> committed;
};

IdempotencyPurger::IdempotencyPurger(const Clock& clock, WriteQueue& writes, Options options)
    : clock_(clock),
      writes_(writes),
      options_(options),
      startup_older_than_(clock.now() - options.retention),
      startup_piece_(submit_piece(startup_older_than_)),
      thread_([this] { run(); }) {}

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
  bool finished = purge_old_records(startup_older_than_, std::move(startup_piece_));
  for (;;) {
    const std::chrono::milliseconds next = finished ? options_.interval : options_.retry_interval;
    if (!sleep_for(next)) return;
    finished = purge_old_records(clock_.now() - options_.retention, nullptr);
  }
}

bool IdempotencyPurger::sleep_for(std::chrono::milliseconds how_long) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, how_long, [this] { return stopping_; });
  return !stopping_;
}

bool IdempotencyPurger::purge_old_records(TimePoint older_than, std::shared_ptr<Piece> first) {
  std::int64_t purged = 0;
  bool finished = false;
  for (bool is_first = true;; is_first = false) {
    if (!is_first && !sleep_for(options_.pause_between_pieces)) break;
    auto queued = is_first && first ? std::move(first) : submit_piece(older_than);
    const std::int64_t piece = queued ? await_piece(queued) : -1;
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

std::shared_ptr<IdempotencyPurger::Piece> IdempotencyPurger::submit_piece(TimePoint older_than) {
  auto piece = std::make_shared<Piece>();
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
    return nullptr;
  }
  return piece;
}

std::int64_t IdempotencyPurger::await_piece(const std::shared_ptr<Piece>& piece) {
  // The writer always completes a queued job, even while stopping (WriteQueue::stop drains).
  const bool committed = piece->committed.get_future().get();
  if (!committed || piece->deleted < 0) {
    log_error("idempotency purge failed", {{"committed", committed}, {"error", piece->error}});
    return -1;
  }
  return piece->deleted;
}

}  // namespace encore::api
