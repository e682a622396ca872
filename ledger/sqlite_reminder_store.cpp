#include "ledger/sqlite_reminder_store.h"

#include <stdexcept>

namespace encore {
namespace {

std::int64_t secs(TimePoint t) {
  return t.time_since_epoch().count();
}
TimePoint from_secs(std::int64_t s) {
  return TimePoint{std::chrono::seconds{s}};
}
std::optional<std::string> opt_text(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getString();
}
std::optional<TimePoint> opt_time(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return from_secs(c.getInt64());
}
void bind_time(SQLite::Statement& s, int i, TimePoint t) {
  s.bind(i, static_cast<int64_t>(secs(t)));
}
void bind_points(SQLite::Statement& s, int i, std::int64_t v) {
  s.bind(i, static_cast<int64_t>(v));
}

// The member columns planning needs, in MemberRow order.
#define ENCORE_MEMBER_COLUMNS                                                          \
  "member_id, locale, marketing_opt_in, enrolled_at, erased_at, balance, debt, tier, " \
  "tier_reached_at, first_purchase_at, last_purchase_at, purchase_count, last_activity_at"
#define ENCORE_REMINDER_COLUMNS                                                               \
  "id, reminder_id, dedupe_key, member_id, rule_id, kind, locale, message, points, "          \
  "expiring_points, expires_on, created_at, state, attempts, next_attempt_at, delivered_at, " \
  "last_error"

MemberRow read_member(SQLite::Statement& s) {
  MemberRow r;
  r.member_id = s.getColumn(0).getString();
  r.locale = opt_text(s.getColumn(1));
  r.marketing_opt_in = s.getColumn(2).getInt() != 0;
  r.enrolled_at = from_secs(s.getColumn(3).getInt64());
  r.erased_at = opt_time(s.getColumn(4));
  r.balance = s.getColumn(5).getInt64();
  r.debt = s.getColumn(6).getInt64();
  r.tier = s.getColumn(7).getString();
  r.tier_reached_at = from_secs(s.getColumn(8).getInt64());
  r.first_purchase_at = opt_time(s.getColumn(9));
  r.last_purchase_at = opt_time(s.getColumn(10));
  r.purchase_count = s.getColumn(11).getInt64();
  r.last_activity_at = opt_time(s.getColumn(12));
  return r;
}

ReminderKind kind_from(const std::string& name) {
  if (name == "expiring_soon") return ReminderKind::expiring_soon;
  if (name == "dormant") return ReminderKind::dormant;
  if (name == "second_purchase") return ReminderKind::second_purchase;
  throw std::runtime_error("reminders.kind holds an unknown kind");
}

ReminderState state_from(const std::string& name) {
  if (name == "pending") return ReminderState::pending;
  if (name == "delivered") return ReminderState::delivered;
  if (name == "failed") return ReminderState::failed;
  if (name == "cancelled") return ReminderState::cancelled;
  throw std::runtime_error("reminders.state holds an unknown state");
}

ReminderRow read_reminder(SQLite::Statement& s) {
  ReminderRow r;
  r.id = s.getColumn(0).getInt64();
  r.reminder_id = s.getColumn(1).getString();
  r.dedupe_key = s.getColumn(2).getString();
  r.member_id = s.getColumn(3).getString();
  r.rule_id = s.getColumn(4).getString();
  r.kind = kind_from(s.getColumn(5).getString());
  r.locale = s.getColumn(6).getString();
  r.message = s.getColumn(7).getString();
  r.points = s.getColumn(8).getInt64();
  r.expiring_points = s.getColumn(9).getInt64();
  r.expires_on = opt_text(s.getColumn(10));
  r.created_at = from_secs(s.getColumn(11).getInt64());
  r.state = state_from(s.getColumn(12).getString());
  r.attempts = s.getColumn(13).getInt();
  r.next_attempt_at = from_secs(s.getColumn(14).getInt64());
  r.delivered_at = opt_time(s.getColumn(15));
  r.last_error = opt_text(s.getColumn(16));
  return r;
}

}  // namespace

std::string_view reminder_state_name(ReminderState state) {
  switch (state) {
    case ReminderState::pending:
      return "pending";
    case ReminderState::delivered:
      return "delivered";
    case ReminderState::failed:
      return "failed";
    case ReminderState::cancelled:
      return "cancelled";
  }
  return "pending";
}

std::string_view reminder_kind_name(ReminderKind kind) {
  switch (kind) {
    case ReminderKind::expiring_soon:
      return "expiring_soon";
    case ReminderKind::dormant:
      return "dormant";
    case ReminderKind::second_purchase:
      return "second_purchase";
  }
  return "expiring_soon";
}

void SqliteReminderStore::reset_statements() {
  for (auto& [sql, statement] : cache_) (void)statement->tryReset();
}

SQLite::Statement& SqliteReminderStore::stmt(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    it = cache_.emplace(sql, std::make_unique<SQLite::Statement>(db_, sql)).first;
  }
  auto& s = *it->second;
  (void)s.tryReset();  // a failed last step was reported by that step
  s.clearBindings();
  return s;
}

void SqliteReminderStore::scan_members(SQLite::Statement& s,
                                       const std::function<void(const MemberRow&)>& visit) {
  while (s.executeStep()) visit(read_member(s));
  s.reset();
}

void SqliteReminderStore::scan_expiring_lots(
    TimePoint after, TimePoint until,
    const std::function<void(const std::string&, Points, TimePoint)>& visit) {
  // lots_open_by_expiry: a range scan of the partial index, no per-member work.
  auto& s = stmt(
      "SELECT member_id, remaining, expires_at FROM lots "
      "WHERE remaining > 0 AND expires_at IS NOT NULL AND expires_at > ? AND expires_at <= ? "
      "ORDER BY expires_at");
  bind_time(s, 1, after);
  bind_time(s, 2, until);
  while (s.executeStep()) {
    visit(s.getColumn(0).getString(), s.getColumn(1).getInt64(),
          from_secs(s.getColumn(2).getInt64()));
  }
  s.reset();
}

void SqliteReminderStore::scan_reachable_by_activity(
    TimePoint from, TimePoint to, Points min_balance,
    const std::function<void(const MemberRow&)>& visit) {
  auto& s = stmt("SELECT " ENCORE_MEMBER_COLUMNS
                 " FROM members WHERE marketing_opt_in = 1 AND erased_at IS NULL "
                 "AND balance >= ? AND COALESCE(last_activity_at, enrolled_at) BETWEEN ? AND ? "
                 "ORDER BY member_id");
  bind_points(s, 1, min_balance);
  bind_time(s, 2, from);
  bind_time(s, 3, to);
  scan_members(s, visit);
}

void SqliteReminderStore::scan_reachable_dormant(
    TimePoint before, Points min_balance, const std::function<void(const MemberRow&)>& visit) {
  // members_reachable_by_purchase serves both arms of the OR.
  auto& s = stmt("SELECT " ENCORE_MEMBER_COLUMNS
                 " FROM members WHERE marketing_opt_in = 1 AND erased_at IS NULL "
                 "AND (last_purchase_at <= ?1 OR (last_purchase_at IS NULL AND enrolled_at <= ?1)) "
                 "AND balance >= ?2 ORDER BY member_id");
  bind_time(s, 1, before);
  bind_points(s, 2, min_balance);
  scan_members(s, visit);
}

void SqliteReminderStore::scan_reachable_single_purchase(
    TimePoint before, const std::function<void(const MemberRow&)>& visit) {
  auto& s = stmt("SELECT " ENCORE_MEMBER_COLUMNS
                 " FROM members WHERE marketing_opt_in = 1 AND erased_at IS NULL "
                 "AND last_purchase_at <= ? AND purchase_count = 1 ORDER BY member_id");
  bind_time(s, 1, before);
  scan_members(s, visit);
}

bool SqliteReminderStore::reminder_key_exists(const std::string& dedupe_key) {
  auto& s = stmt("SELECT 1 FROM reminders WHERE dedupe_key = ?");
  s.bind(1, dedupe_key);
  bool found = s.executeStep();
  s.reset();
  return found;
}

ReminderHistory SqliteReminderStore::reminder_history(const std::string& member_id,
                                                      TimePoint since) {
  ReminderHistory h;
  auto& s = stmt(
      "SELECT MAX(created_at), COALESCE(SUM(created_at > ?), 0) FROM reminders "
      "WHERE member_id = ? AND state != 'cancelled'");
  bind_time(s, 1, since);
  s.bind(2, member_id);
  if (s.executeStep()) {
    h.last_created_at = opt_time(s.getColumn(0));
    h.count_since = s.getColumn(1).getInt64();
  }
  s.reset();
  return h;
}

void SqliteReminderStore::scan_recent_reminders(
    TimePoint since, const std::function<void(const std::string&, TimePoint)>& visit) {
  auto& s = stmt(
      "SELECT member_id, created_at FROM reminders WHERE created_at > ? "
      "AND state != 'cancelled'");
  bind_time(s, 1, since);
  while (s.executeStep()) visit(s.getColumn(0).getString(), from_secs(s.getColumn(1).getInt64()));
  s.reset();
}

bool SqliteReminderStore::insert_reminder(const ReminderRow& r) {
  auto& s = stmt(
      "INSERT OR IGNORE INTO reminders (reminder_id, dedupe_key, member_id, rule_id, kind, "
      "locale, message, points, expiring_points, expires_on, created_at, state, attempts, "
      "next_attempt_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,'pending',0,?)");
  s.bind(1, r.reminder_id);
  s.bind(2, r.dedupe_key);
  s.bind(3, r.member_id);
  s.bind(4, r.rule_id);
  s.bind(5, std::string(reminder_kind_name(r.kind)));
  s.bind(6, r.locale);
  s.bind(7, r.message);
  bind_points(s, 8, r.points);
  bind_points(s, 9, r.expiring_points);
  if (r.expires_on) {
    s.bind(10, *r.expires_on);
  } else {
    s.bind(10);
  }
  bind_time(s, 11, r.created_at);
  bind_time(s, 12, r.next_attempt_at);
  return s.exec() == 1;
}

std::int64_t SqliteReminderStore::cancel_pending_reminders(const std::string& member_id,
                                                           const std::string& reason) {
  auto& s = stmt(
      "UPDATE reminders SET state = 'cancelled', last_error = ? "
      "WHERE member_id = ? AND state = 'pending'");
  s.bind(1, reason);
  s.bind(2, member_id);
  return s.exec();
}

std::vector<ReminderRow> SqliteReminderStore::due_reminders(TimePoint now, std::size_t limit) {
  auto& s = stmt("SELECT " ENCORE_REMINDER_COLUMNS
                 " FROM reminders WHERE state = 'pending' AND next_attempt_at <= ? "
                 "ORDER BY next_attempt_at, id LIMIT ?");
  bind_time(s, 1, now);
  s.bind(2, static_cast<int64_t>(limit));
  std::vector<ReminderRow> out;
  while (s.executeStep()) out.push_back(read_reminder(s));
  s.reset();
  return out;
}

std::optional<TimePoint> SqliteReminderStore::next_due_at() {
  auto& s = stmt("SELECT MIN(next_attempt_at) FROM reminders WHERE state = 'pending'");
  std::optional<TimePoint> out;
  if (s.executeStep()) out = opt_time(s.getColumn(0));
  s.reset();
  return out;
}

std::optional<ReminderRow> SqliteReminderStore::reminder(const std::string& reminder_id) {
  auto& s = stmt("SELECT " ENCORE_REMINDER_COLUMNS " FROM reminders WHERE reminder_id = ?");
  s.bind(1, reminder_id);
  std::optional<ReminderRow> out;
  if (s.executeStep()) out = read_reminder(s);
  s.reset();
  return out;
}

std::vector<ReminderRow> SqliteReminderStore::all_reminders() {
  auto& s = stmt("SELECT " ENCORE_REMINDER_COLUMNS " FROM reminders ORDER BY id");
  std::vector<ReminderRow> out;
  while (s.executeStep()) out.push_back(read_reminder(s));
  s.reset();
  return out;
}

std::vector<ReminderRow> SqliteReminderStore::reminders_after(std::int64_t after_id,
                                                              std::size_t limit) {
  auto& s =
      stmt("SELECT " ENCORE_REMINDER_COLUMNS " FROM reminders WHERE id > ? ORDER BY id LIMIT ?");
  s.bind(1, static_cast<int64_t>(after_id));
  s.bind(2, static_cast<int64_t>(limit));
  std::vector<ReminderRow> out;
  out.reserve(limit);
  while (s.executeStep()) out.push_back(read_reminder(s));
  s.reset();
  return out;
}

void SqliteReminderStore::mark_reminder_delivered(std::int64_t id, int attempts, TimePoint at) {
  // Only a pending reminder becomes delivered: an opt-out that cancelled it meanwhile wins for
  // the books, although the receiver may already have it (at-least-once).
  auto& s = stmt(
      "UPDATE reminders SET state = 'delivered', attempts = ?, delivered_at = ?, "
      "last_error = NULL WHERE id = ? AND state = 'pending'");
  s.bind(1, attempts);
  bind_time(s, 2, at);
  s.bind(3, static_cast<int64_t>(id));
  s.exec();
}

void SqliteReminderStore::mark_reminder_attempt_failed(std::int64_t id, int attempts, bool dead,
                                                       TimePoint next_attempt_at,
                                                       const std::string& error) {
  auto& s = stmt(
      "UPDATE reminders SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ? "
      "WHERE id = ? AND state = 'pending'");
  s.bind(1, dead ? "failed" : "pending");
  s.bind(2, attempts);
  bind_time(s, 3, next_attempt_at);
  s.bind(4, error);
  s.bind(5, static_cast<int64_t>(id));
  s.exec();
}

std::optional<ReminderSchedule> SqliteReminderStore::reminder_schedule() {
  auto& s = stmt("SELECT last_run_date, last_run_at FROM reminder_schedule WHERE id = 1");
  std::optional<ReminderSchedule> out;
  if (s.executeStep()) {
    out = ReminderSchedule{s.getColumn(0).getString(), from_secs(s.getColumn(1).getInt64())};
  }
  s.reset();
  return out;
}

void SqliteReminderStore::set_reminder_schedule(const ReminderSchedule& schedule) {
  auto& s = stmt("REPLACE INTO reminder_schedule (id, last_run_date, last_run_at) VALUES (1,?,?)");
  s.bind(1, schedule.last_run_date);
  bind_time(s, 2, schedule.last_run_at);
  s.exec();
}

std::vector<ReminderRuleReport> SqliteReminderStore::reminder_report(
    std::int64_t attribution_seconds) {
  // Conversion looks only at delivered reminders: orders by their business time, redemptions
  // by their entries (orders_by_member_time and entries_by_member keep it per member).
  auto& s = stmt(
      "SELECT rule_id, COUNT(*), SUM(state = 'pending'), SUM(state = 'delivered'), "
      "  SUM(state = 'failed'), SUM(state = 'cancelled'), "
      "  SUM(CASE WHEN state = 'delivered' THEN "
      "    (EXISTS (SELECT 1 FROM orders o WHERE o.member_id = r.member_id "
      "       AND o.occurred_at >= r.delivered_at AND o.occurred_at <= r.delivered_at + ?1) "
      "     OR EXISTS (SELECT 1 FROM entries e WHERE e.member_id = r.member_id "
      "       AND e.kind = 'redeem' AND e.occurred_at >= r.delivered_at "
      "       AND e.occurred_at <= r.delivered_at + ?1)) ELSE 0 END), "
      "  SUM(CASE WHEN state = 'delivered' THEN "
      "    (SELECT COALESCE(-SUM(e.points), 0) FROM entries e WHERE e.member_id = r.member_id "
      "       AND e.kind = 'redeem' AND e.occurred_at >= r.delivered_at "
      "       AND e.occurred_at <= r.delivered_at + ?1) ELSE 0 END) "
      "FROM reminders r GROUP BY rule_id ORDER BY rule_id");
  s.bind(1, static_cast<int64_t>(attribution_seconds));
  std::vector<ReminderRuleReport> out;
  while (s.executeStep()) {
    ReminderRuleReport r;
    r.rule_id = s.getColumn(0).getString();
    r.planned = s.getColumn(1).getInt64();
    r.pending = s.getColumn(2).getInt64();
    r.delivered = s.getColumn(3).getInt64();
    r.failed = s.getColumn(4).getInt64();
    r.cancelled = s.getColumn(5).getInt64();
    r.converted = s.getColumn(6).getInt64();
    r.points_redeemed_after = s.getColumn(7).getInt64();
    out.push_back(std::move(r));
  }
  s.reset();
  return out;
}

}  // namespace encore
