// Persistence of reminders (SPEC 7): the outbox, the scheduler's memory and the queries that
// planning and the conversion report need. Reached through Store::reminders(); like Store, the
// only code that speaks SQL is its SQLite implementation (ledger/sqlite_reminder_store.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ledger/program.h"
#include "ledger/store.h"
#include "ledger/types.h"

namespace encore {

enum class ReminderState { pending, delivered, failed, cancelled };
std::string_view reminder_state_name(ReminderState state);
std::string_view reminder_kind_name(ReminderKind kind);

struct ReminderRow {
  std::int64_t id = 0;  // outbox order
  std::string reminder_id;
  std::string dedupe_key;
  std::string member_id;
  std::string rule_id;
  ReminderKind kind = ReminderKind::expiring_soon;
  std::string locale;
  std::string message;
  Points points = 0;
  Points expiring_points = 0;
  std::optional<std::string> expires_on;  // YYYY-MM-DD, program time zone
  TimePoint created_at{};
  ReminderState state = ReminderState::pending;
  int attempts = 0;
  TimePoint next_attempt_at{};
  std::optional<TimePoint> delivered_at;
  std::optional<std::string> last_error;
};

// A member's recent reminders, for the frequency caps (cancelled ones do not count).
struct ReminderHistory {
  std::optional<TimePoint> last_created_at;
  std::int64_t count_since = 0;
};

struct ReminderRuleReport {
  std::string rule_id;
  std::int64_t planned = 0;  // every outbox row of the rule
  std::int64_t pending = 0;
  std::int64_t delivered = 0;
  std::int64_t failed = 0;
  std::int64_t cancelled = 0;
  std::int64_t converted = 0;  // delivered, then a purchase or redemption within attribution
  Points points_redeemed_after = 0;
};

struct ReminderSchedule {
  std::string last_run_date;  // YYYY-MM-DD, program time zone
  TimePoint last_run_at{};
};

class ReminderStore {
 public:
  virtual ~ReminderStore() = default;

  // --- planning (reads)
  // Open lots with a fixed expiry in (after, until], in expiry order.
  virtual void scan_expiring_lots(
      TimePoint after, TimePoint until,
      const std::function<void(const std::string& member_id, Points remaining,
                               TimePoint expires_at)>& visit) = 0;
  // Opted-in, not erased members whose inactivity clock (last activity, else enrolment) is in
  // [from, to], holding at least `min_balance`.
  virtual void scan_reachable_by_activity(TimePoint from, TimePoint to, Points min_balance,
                                          const std::function<void(const MemberRow&)>& visit) = 0;
  // Opted-in, not erased members whose last purchase (else enrolment) is at or before `before`,
  // with a balance of at least `min_balance` (an upper bound of what is available).
  virtual void scan_reachable_dormant(TimePoint before, Points min_balance,
                                      const std::function<void(const MemberRow&)>& visit) = 0;
  // Opted-in, not erased members with exactly one purchase, at or before `before`.
  virtual void scan_reachable_single_purchase(
      TimePoint before, const std::function<void(const MemberRow&)>& visit) = 0;
  virtual bool reminder_key_exists(const std::string& dedupe_key) = 0;
  virtual ReminderHistory reminder_history(const std::string& member_id, TimePoint since) = 0;
  // Every non-cancelled reminder created after `since` (the caps of a whole planning pass).
  virtual void scan_recent_reminders(
      TimePoint since,
      const std::function<void(const std::string& member_id, TimePoint created_at)>& visit) = 0;

  // --- outbox (writes)
  // False when the dedupe key (or reminder id) is already there: nothing inserted.
  virtual bool insert_reminder(const ReminderRow& row) = 0;
  // Pending, undelivered reminders of the member become cancelled; returns how many.
  virtual std::int64_t cancel_pending_reminders(const std::string& member_id,
                                                const std::string& reason) = 0;
  virtual std::vector<ReminderRow> due_reminders(TimePoint now, std::size_t limit) = 0;
  virtual std::optional<TimePoint> next_due_at() = 0;
  virtual std::optional<ReminderRow> reminder(const std::string& reminder_id) = 0;
  virtual std::vector<ReminderRow> all_reminders() = 0;  // by outbox order (tests, tools)
  // One page of the outbox: up to `limit` rows whose `id` is above `after_id`, in outbox order.
  virtual std::vector<ReminderRow> reminders_after(std::int64_t after_id, std::size_t limit) = 0;
  virtual void mark_reminder_delivered(std::int64_t id, int attempts, TimePoint at) = 0;
  // Records a failed attempt: stays pending until `next_attempt_at`, or `failed` (dead letter).
  virtual void mark_reminder_attempt_failed(std::int64_t id, int attempts, bool dead,
                                            TimePoint next_attempt_at,
                                            const std::string& error) = 0;

  virtual std::optional<ReminderSchedule> reminder_schedule() = 0;
  virtual void set_reminder_schedule(const ReminderSchedule& schedule) = 0;

  // --- measuring
  virtual std::vector<ReminderRuleReport> reminder_report(std::int64_t attribution_seconds) = 0;
};

}  // namespace encore
