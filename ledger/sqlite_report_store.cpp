#include "ledger/sqlite_report_store.h"

#include <sqlite3.h>

#include <chrono>
#include <stdexcept>
#include <string>

#include "ledger/sqlite_rows.h"

namespace encore {

using sqlite_rows::kHoldColumns;
using sqlite_rows::kLotColumns;
using sqlite_rows::kMemberColumns;

namespace {

// Column 1 of a lot or hold row, without a copy (valid until the next step). SQLite's BINARY
// collation and std::string_view compare the same way: bytes as unsigned, then length.
std::string_view member_of(SQLite::Statement& s) {
  const auto& column = s.getColumn(1);
  return {column.getText(), static_cast<std::size_t>(column.getBytes())};
}

// While alive, SQLite asks `keep_going` every `progress_steps` virtual-machine instructions, so
// a long step (a scan with few rows out) can be interrupted too; a false answer makes the step
// fail with SQLITE_INTERRUPT, which rethrow_stopped() turns into ReportStopped. The connection
// is pooled: the handler is removed when the scan ends, however it ends.
class Interruptible {
 public:
  static constexpr int progress_steps = 10'000;  // well under a millisecond between two asks

  Interruptible(SQLite::Database& db, const KeepGoing& keep_going)
      : db_(db), keep_going_(keep_going) {
    if (keep_going_) sqlite3_progress_handler(db_.getHandle(), progress_steps, &ask, this);
  }
  ~Interruptible() {
    if (keep_going_) sqlite3_progress_handler(db_.getHandle(), 0, nullptr, nullptr);
  }
  Interruptible(const Interruptible&) = delete;
  Interruptible& operator=(const Interruptible&) = delete;

  // Inside a catch of SQLite::Exception: ReportStopped when this scan was interrupted.
  void rethrow_stopped(const SQLite::Exception& e) const {
    if (e.getErrorCode() == SQLITE_INTERRUPT && stopped_) throw ReportStopped();
  }

 private:
  static int ask(void* self) {
    auto& me = *static_cast<Interruptible*>(self);
    me.stopped_ = !me.keep_going_();
    return me.stopped_ ? 1 : 0;
  }

  SQLite::Database& db_;
  const KeepGoing& keep_going_;
  bool stopped_ = false;
};

}  // namespace

void SqliteReportStore::scan_member_states(const std::function<void(const MemberState&)>& visit,
                                           const KeepGoing& keep_going) {
  Interruptible interruptible(db_, keep_going);
  try {
    merge_member_states(visit);
  } catch (const SQLite::Exception& e) {
    interruptible.rethrow_stopped(e);
    throw;
  }
}

void SqliteReportStore::merge_member_states(const std::function<void(const MemberState&)>& visit) {
  // Three scans in member_id order, merged like a sort-merge join. The lots and holds scans read
  // the partial indexes lots_open_by_member and holds_open_by_member (their WHERE clauses match).
  SQLite::Statement members(
      db_, std::string("SELECT ") + kMemberColumns + " FROM members ORDER BY member_id");
  SQLite::Statement lots(db_, std::string("SELECT ") + kLotColumns +
                                  " FROM lots WHERE remaining > 0 ORDER BY member_id, id");
  SQLite::Statement holds(db_, std::string("SELECT ") + kHoldColumns +
                                   " FROM holds WHERE state = 'open' ORDER BY member_id, hold_id");
  bool lot_ready = lots.executeStep();
  bool hold_ready = holds.executeStep();
  MemberState state;
  while (members.executeStep()) {
    state.row = sqlite_rows::read_member(members);
    state.lots.clear();
    state.holds.clear();
    const std::string_view id = state.row.member_id;
    // Rows of a member_id below the current one belong to no member (the schema has no foreign
    // keys): skipped, as the balance route would never see them either.
    while (lot_ready && member_of(lots) <= id) {
      if (member_of(lots) == id) state.lots.push_back(sqlite_rows::read_lot(lots));
      lot_ready = lots.executeStep();
    }
    while (hold_ready && member_of(holds) <= id) {
      if (member_of(holds) == id) {
        state.holds.push_back(sqlite_rows::read_hold(holds));
      }
      hold_ready = holds.executeStep();
    }
    visit(state);
  }
}

void SqliteReportStore::scan_orders_by_member(
    const std::function<void(const std::string&, const std::vector<ReportOrder>&)>& visit,
    const KeepGoing& keep_going) {
  Interruptible interruptible(db_, keep_going);
  try {
    group_orders_by_member(visit);
  } catch (const SQLite::Exception& e) {
    interruptible.rethrow_stopped(e);
    throw;
  }
}

void SqliteReportStore::group_orders_by_member(
    const std::function<void(const std::string&, const std::vector<ReportOrder>&)>& visit) {
  // orders_by_member_time(member_id, occurred_at) ends with the primary key order_id, so this
  // order needs no sort.
  SQLite::Statement s(db_,
                      "SELECT member_id, occurred_at, amount_minor, refunded_minor FROM orders "
                      "ORDER BY member_id, occurred_at, order_id");
  std::string member_id;
  std::vector<ReportOrder> orders;
  while (s.executeStep()) {
    std::string id = s.getColumn(0).getString();
    if (id != member_id) {
      if (!orders.empty()) visit(member_id, orders);
      orders.clear();
      member_id = std::move(id);
    }
    orders.push_back(ReportOrder{TimePoint{std::chrono::seconds{s.getColumn(1).getInt64()}},
                                 s.getColumn(2).getInt64(), s.getColumn(3).getInt64()});
  }
  if (!orders.empty()) visit(member_id, orders);
}

EntryTotals SqliteReportStore::entry_totals(const KeepGoing& keep_going) {
  Interruptible interruptible(db_, keep_going);
  try {
    // One pass, no sort (kind has no index; GROUP BY would sort every entry).
    SQLite::Statement s(db_,
                        "SELECT "
                        "coalesce(sum(points) FILTER (WHERE kind IN ('earn', 'bonus')), 0), "
                        "coalesce(sum(points) FILTER (WHERE kind = 'adjust' AND points > 0), 0), "
                        "coalesce(sum(points) FILTER (WHERE kind = 'reverse'), 0), "
                        "coalesce(sum(points) FILTER (WHERE kind = 'expire'), 0) "
                        "FROM entries");
    if (!s.executeStep()) throw std::runtime_error("entry totals: no row");
    return EntryTotals{s.getColumn(0).getInt64(), s.getColumn(1).getInt64(),
                       -s.getColumn(2).getInt64(), -s.getColumn(3).getInt64()};
  } catch (const SQLite::Exception& e) {
    interruptible.rethrow_stopped(e);
    throw;
  }
}

}  // namespace encore
