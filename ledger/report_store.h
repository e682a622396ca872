// Whole-ledger scans for the reports of SPEC 8 (liability, repeat-purchase, rfm). Read-only, and
// meant to run inside one read transaction (Store::begin_read) so every figure comes from the
// same snapshot. Reached through Store::reports(); the only code that speaks SQL is its SQLite
// implementation (ledger/sqlite_report_store.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ledger/member_state.h"
#include "ledger/store.h"
#include "ledger/types.h"

namespace encore {

// Asked while a report runs (between members, and inside long SQL steps through SQLite's progress
// handler); when it returns false the report ends by throwing ReportStopped (a server shutting
// down). Empty: never stops.
using KeepGoing = std::function<bool()>;
struct ReportStopped : std::runtime_error {
  ReportStopped() : std::runtime_error("the report was stopped") {}
};

// Sums over all entries, for breakage. Positive magnitudes.
struct EntryTotals {
  Points earned = 0;       // earn and bonus entries
  Points adjusted_in = 0;  // positive adjust entries (corrections, imported balances)
  Points reversed = 0;     // minus the sum of reverse entries
  Points expired = 0;      // minus the sum of expire entries
};

// A purchase as the customer reports see it. `net_minor` = amount - refunded.
struct ReportOrder {
  TimePoint occurred_at{};
  std::int64_t amount_minor = 0;
  std::int64_t refunded_minor = 0;
};

class ReportStore {
 public:
  virtual ~ReportStore() = default;

  // Every member in member_id order with its open lots (remaining > 0, by id) and open holds,
  // as the balance route loads them (orders not loaded). Three ordered index scans merged: no
  // per-member query.
  virtual void scan_member_states(const std::function<void(const MemberState&)>& visit,
                                  const KeepGoing& keep_going) = 0;

  // Every member's orders, grouped by member (member_id order), each member's by occurred_at
  // then order_id. Members without orders are not visited.
  virtual void scan_orders_by_member(
      const std::function<void(const std::string& member_id,
                               const std::vector<ReportOrder>& orders)>& visit,
      const KeepGoing& keep_going) = 0;

  // One pass over every entry.
  virtual EntryTotals entry_totals(const KeepGoing& keep_going) = 0;
};

}  // namespace encore
