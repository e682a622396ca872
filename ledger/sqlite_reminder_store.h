// The SQLite ReminderStore, sharing its connection with the owning SqliteStore.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include <memory>
#include <string>
#include <unordered_map>

#include "ledger/reminder_store.h"

namespace encore {

class SqliteReminderStore final : public ReminderStore {
 public:
  explicit SqliteReminderStore(SQLite::Database& db) : db_(db) {}

  // Called by SqliteStore at the end of each transaction (see its reset_statements).
  void reset_statements();

  void scan_expiring_lots(
      TimePoint after, TimePoint until,
      const std::function<void(const std::string&, Points, TimePoint)>& visit) override;
  void scan_reachable_by_activity(TimePoint from, TimePoint to, Points min_balance,
                                  const std::function<void(const MemberRow&)>& visit) override;
  void scan_reachable_dormant(TimePoint before, Points min_balance,
                              const std::function<void(const MemberRow&)>& visit) override;
  void scan_reachable_single_purchase(TimePoint before,
                                      const std::function<void(const MemberRow&)>& visit) override;
  bool reminder_key_exists(const std::string& dedupe_key) override;
  ReminderHistory reminder_history(const std::string& member_id, TimePoint since) override;
  void scan_recent_reminders(
      TimePoint since, const std::function<void(const std::string&, TimePoint)>& visit) override;

  bool insert_reminder(const ReminderRow& row) override;
  std::int64_t cancel_pending_reminders(const std::string& member_id,
                                        const std::string& reason) override;
  std::vector<ReminderRow> due_reminders(TimePoint now, std::size_t limit) override;
  std::optional<TimePoint> next_due_at() override;
  std::optional<ReminderRow> reminder(const std::string& reminder_id) override;
  std::vector<ReminderRow> all_reminders() override;
  std::vector<ReminderRow> reminders_after(std::int64_t after_id, std::size_t limit) override;
  void mark_reminder_delivered(std::int64_t id, int attempts, TimePoint at) override;
  void mark_reminder_attempt_failed(std::int64_t id, int attempts, bool dead,
                                    TimePoint next_attempt_at, const std::string& error) override;
  std::optional<ReminderSchedule> reminder_schedule() override;
  void set_reminder_schedule(const ReminderSchedule& schedule) override;
  std::vector<ReminderRuleReport> reminder_report(std::int64_t attribution_seconds) override;

 private:
  SQLite::Statement& stmt(const char* sql);
  void scan_members(SQLite::Statement& s, const std::function<void(const MemberRow&)>& visit);

  SQLite::Database& db_;
  std::unordered_map<const char*, std::unique_ptr<SQLite::Statement>> cache_;
};

}  // namespace encore
