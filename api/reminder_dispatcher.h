// Delivers the reminders outbox (SPEC 7) on its own thread, so the API never waits for a sink.
// It also plans: daily at `reminders.run_at` (a slot missed while the server was down is made
// up at start) and on demand (POST /v1/admin/reminders/run). Every state change goes through
// Ledger::write_batch, which shares the single writer's mutex with the write queue.
//
// Delivery is at-least-once: a reminder is marked delivered only after the sink accepted it
// (file: appended and fsync'd; webhook: a 2xx answer), so a crash in between sends it again
// with the same reminder_id. Failures retry with exponential backoff and jitter, then dead-letter
// (`failed`) after the webhook's `max_attempts`.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "api/config.h"
#include "ledger/ledger.h"
#include "ledger/reminders.h"

namespace encore::api {

struct DispatcherOptions {
  std::chrono::milliseconds retry_base{1000};                     // ENCORE_REMINDER_RETRY_BASE_MS
  std::chrono::milliseconds retry_cap{std::chrono::minutes(10)};  // ENCORE_REMINDER_RETRY_CAP_MS
  std::chrono::milliseconds poll{1000};
  bool schedule = true;  // ENCORE_REMINDER_SCHEDULE=off disables the daily run (tests)
  // ENCORE_REMINDER_CHUNK_ROWS: outbox rows per planning transaction.
  std::size_t rows_per_transaction = ReminderRunOptions{}.rows_per_transaction;
  std::function<void()> after_run_chunk;  // tests: runs on the dispatcher thread between chunks
};
DispatcherOptions dispatcher_options(const EnvLookup& env);

class ReminderDispatcher {
 public:
  // Called exactly once per run_now: with the result, or with an error (`overloaded` when the
  // dispatcher is stopping, `internal` when the run failed).
  using Planned = std::function<void(const ReminderRunResult* result, const Error* error)>;

  ReminderDispatcher(Ledger& ledger, DispatcherOptions options);
  ~ReminderDispatcher();  // stops
  ReminderDispatcher(const ReminderDispatcher&) = delete;
  ReminderDispatcher& operator=(const ReminderDispatcher&) = delete;

  // Plans now on the dispatcher thread, calls `done` there, then delivers.
  void run_now(Planned done);
  // Asks the thread to stop without waiting: a planning run ends at its next chunk boundary (it
  // stays due and completes at the next start), delivery between two reminders. The server
  // calls it when a shutdown signal arrives, so an on-demand run answers during the drain.
  void request_stop();
  // request_stop(), then joins the thread.
  void stop();
  bool stopping() const;

 private:
  void loop();
  ReminderRunResult plan();
  void run_requested(const Planned& done);  // answers `done` exactly once
  void answer_queued();                     // answers every queued request: stopping
  void deliver_due();
  void deliver_file(const FileSink& sink, const std::vector<ReminderRow>& due);
  void deliver_webhook(const WebhookSink& sink, const ReminderRow& row);
  void record_failure(const ReminderRow& row, int max_attempts, const std::string& error);

  Ledger& ledger_;
  DispatcherOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Planned> requests_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace encore::api
