// Reminders to use points (SPEC 7): planning who is nudged, the outbox rows and their JSON, the
// delivery bookkeeping and the conversion report. No I/O to sinks here (see api/).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/reminder_store.h"
#include "ledger/report_store.h"

namespace encore {

// What would go out now: rules in program order, members in id order; every row passed the
// consent, dedupe and frequency-cap checks against the outbox and against earlier rows of the
// same plan. Nothing is written. `store` is a reader snapshot or the writer's store.
// `keep_going` is asked before each rule and every 1,024 rows scanned or candidates considered;
// when it returns false planning ends by throwing ReportStopped (a server shutting down need not
// wait for a plan over a million members).
std::vector<ReminderRow> plan_reminders(Store& store, const Program& program, TimePoint now,
                                        const KeepGoing& keep_going = {});

// Stable id of a reminder: `rem_` + the first 16 bytes of SHA-256(dedupe key), in hex.
std::string reminder_id_for(const std::string& dedupe_key);

// Renders `text` with {points} {expiring_points} {expires_on} {member_id}.
std::string render_reminder(std::string_view text, const ReminderRow& row);

// The body a sink receives (SPEC 7).
nlohmann::json reminder_json(const ReminderRow& row);

struct ReminderRunResult {
  std::vector<ReminderRow> planned;  // inserted into the outbox by this run
  std::string run_date;              // local date of the run, program time zone
  // False when `keep_going` ended the run between two chunks: the run date is not recorded, so
  // the run stays due and the next one completes it.
  bool complete = true;
};

struct ReminderRunOptions {
  // Outbox rows per write transaction. In one transaction, a run at 1M members held the writer
  // for ~40 s (docs/PERFORMANCE.md) and every purchase waited for it; between chunks the
  // server's batches commit.
  std::size_t rows_per_transaction = 250;
  std::function<void()> after_each_transaction;  // tests: runs between two chunks
  // Asked while planning (plan_reminders) and between two chunks, after
  // `after_each_transaction`: false ends the run there (a server shutting down need not wait for
  // a run of a million members).
  std::function<bool()> keep_going;
};

// Plans on a read snapshot, then inserts in chunks of write transactions (re-checking consent;
// the UNIQUE dedupe key keeps anything from being planned twice) and records the run date in
// the last one. A run stopped half-way is completed by the next: the run date was not recorded,
// so the run is still due, and rows already in the outbox are skipped by their dedupe key.
ReminderRunResult run_reminder_planning(Ledger& ledger, const ReminderRunOptions& options = {});

// The daily slot due at `now`: today's `run_at` when passed, else yesterday's (local date).
std::string due_run_date(const Program& program, TimePoint now);
// True when the slot due at `now` has not run yet (a run missed while down is due at start).
bool reminder_run_due(Ledger& ledger, TimePoint now);
// The next instant `run_at` comes round after `now`.
TimePoint next_run_at(const Program& program, TimePoint now);

// Retry delay before attempt `attempts + 1`: base * 2^(attempts-1), capped, with +-20% jitter.
std::chrono::milliseconds retry_delay(int attempts, std::chrono::milliseconds base,
                                      std::chrono::milliseconds cap, double jitter_unit);

struct ReminderReportRow {
  ReminderRuleReport figures;
  std::string kind;                     // from the program, empty for a rule no longer there
  std::int64_t conversion_rate_bp = 0;  // converted * 10000 / delivered
};
std::vector<ReminderReportRow> reminder_report(const Ledger& ledger);
std::vector<ReminderReportRow> reminder_report(Store& store, const Program& program);
nlohmann::json reminder_report_json(const std::vector<ReminderReportRow>& rows);

}  // namespace encore
