// encore-server: parses the configuration, opens the ledger, registers routes, serves until
// SIGTERM, then drains the writer.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "api/auth.h"
#include "api/config.h"
#include "api/idempotency.h"
#include "api/idempotency_purger.h"
#include "api/log.h"
#include "api/metrics.h"
#include "api/reminder_dispatcher.h"
#include "api/report_runner.h"
#include "api/router.h"
#include "api/routes.h"
#include "api/routes_reminders.h"
#include "api/routes_reports.h"
#include "api/server.h"
#include "api/system_routes.h"
#include "api/write_queue.h"
#include "ledger/db_lock.h"
#include "ledger/ledger.h"

namespace {

// Bounds of the writer: a full queue answers 503 `overloaded` instead of growing without limit.
constexpr std::size_t max_write_queue_depth = 20'000;
constexpr std::size_t max_batch_jobs = 1'024;
// Reports run one at a time (report_runner.h); a few may wait, more are answered 503.
constexpr std::size_t max_queued_reports = 4;

int serve(const encore::api::Config& config) {
  using namespace encore;
  using namespace encore::api;
  auto lock = DatabaseLock::try_acquire(config.db_path);
  if (!lock) {
    log_error("database is held by another encore-server", {{"db", config.db_path}});
    return 1;
  }
  auto program = Program::load(config.program_path);
  if (!program) {
    log_error("invalid program", {{"path", config.program_path},
                                  {"field", program.error().field},
                                  {"detail", program.error().detail}});
    return 1;
  }
  SystemClock clock;
  auto ledger = Ledger::open(config.db_path, std::move(program).value(), clock);
  // WAL checkpoints run on a background connection, not inside the group commit. Every 10 ms
  // (an idle pass costs microseconds), so that when the WAL is due to start over, the writer
  // has at most ~10 ms of pages left to copy (docs/PERFORMANCE.md "WAL restarts").
  ledger->start_background_checkpoints(std::chrono::milliseconds(10));
  // ENCORE_CACHE_SELF_CHECK=1 (the end-to-end tests) compares every state the cache publishes
  // with the database and aborts on a difference.
  const char* self_check = std::getenv("ENCORE_CACHE_SELF_CHECK");
  ledger->enable_member_cache(config.cache_members,
                              self_check != nullptr && std::string_view(self_check) == "1");
  ledger->start_cache_warmup();
  ledger->on_durability_lost([](const std::string& why) {
    log_error("writes stopped: the database could not be made durable (docs/operations.md)",
              {{"reason", why}});
  });
  // Called on the writer's thread for every such batch: logged at most once a minute.
  ledger->on_undeferred_batch([last = std::chrono::steady_clock::time_point{}](
                                  const std::string& why) mutable {
    const auto now = std::chrono::steady_clock::now();
    if (last != std::chrono::steady_clock::time_point{} && now - last < std::chrono::minutes{1}) {
      return;
    }
    last = now;
    log_error("the WAL cannot be opened for the sync thread: commits sync themselves, slower",
              {{"reason", why}});
  });
  WriteQueue writes(*ledger, max_write_queue_depth, max_batch_jobs);
  KeyCache keys(*ledger);
  IdempotencyGuard idempotency;
  IdempotencyPurger purger(clock, writes, {.retention = config.idempotency_retention});
  Services services{*ledger,     writes,    keys,
                    idempotency, metrics(), config.maintenance_chunk_members};
  Router router;
  add_system_routes(router, [&ledger, &writes] {
    if (writes.durability_lost()) return false;
    try {
      ledger->with_reader([](Store& s) { s.ledger_totals(); });
      return true;
    } catch (const std::exception&) {
      return false;
    }
  });
  add_ledger_routes(router, services);
  std::unique_ptr<ReminderDispatcher> reminders;  // SPEC 7: only with a `reminders` block
  if (ledger->program().reminders) {
    reminders = std::make_unique<ReminderDispatcher>(*ledger, dispatcher_options(process_env()));
  }
  ReportRunner reports(max_queued_reports);
  add_reminder_routes(router, services, reminders.get(), reports);
  add_report_routes(router, services, reports);
  Server server(config, std::move(router));
  ShutdownHooks hooks;
  // An on-demand reminder run ends at its next chunk and answers while the drain waits for it.
  hooks.on_signal = [&reminders, &reports] {
    if (reminders) reminders->request_stop();
    reports.request_stop();  // a running report ends at its next check and answers 503
  };
  // Both may still complete requests: stopped while the server's io_context exists.
  hooks.after_io = [&reminders, &reports, &purger, &writes] {
    if (reminders) reminders->stop();
    reports.stop();
    purger.stop();  // submits to the writer: stopped first
    writes.stop();  // every acknowledged write already committed; this drains stragglers
  };
  int code = server.run(hooks);
  // Again for a server that failed to start (no-ops after after_io).
  if (reminders) reminders->stop();
  reports.stop();
  purger.stop();
  writes.stop();
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace encore::api;
  // Writes to a closed socket must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto loaded = load_config(args, process_env());
  if (!loaded) {
    log_error("invalid configuration",
              {{"field", loaded.error().field}, {"detail", loaded.error().detail}});
    std::fputs(usage_text().c_str(), stderr);
    return 2;
  }
  if (loaded->help_requested) {
    std::fputs(usage_text().c_str(), stdout);
    return 0;
  }
  const Config& config = loaded->config;
  log_info("starting encore-server", {{"db", config.db_path},
                                      {"program", config.program_path},
                                      {"worker_threads", config.worker_threads}});
  try {
    return serve(config);
  } catch (const std::exception& e) {
    log_error("fatal", {{"error", e.what()}});
    return 1;
  }
}
