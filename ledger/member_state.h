// A member's live state (row, open lots, open holds) and the derived figures of SPEC 2:
// available = balance - pending - held, with lots past their expiry never spendable.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ledger/program.h"
#include "ledger/store.h"
#include "ledger/types.h"

namespace encore {

struct MemberState {
  MemberRow row;
  std::vector<LotRow> lots;     // remaining > 0, by id
  std::vector<HoldView> holds;  // state open (possibly past expires_at until refreshed)
  // Every order with occurred_at > *orders_after (any order), so qualifying points for any
  // window starting at or after orders_after need no query. nullopt: not loaded (too many).
  std::optional<TimePoint> orders_after;
  std::vector<QualifyingOrder> orders;
};

// More orders in the tier window than this and the state keeps none (orders_after stays
// nullopt): qualifying points then come from a query, and the member is never cached.
constexpr std::size_t max_window_orders = 512;

// Row, open lots and open holds only (orders not loaded).
std::optional<MemberState> load_member_state(Store& store, const std::string& member_id);
// Row, open lots, open holds, and the orders inside the tier window as of `now`.
std::optional<MemberState> load_member_state(Store& store, const std::string& member_id,
                                             const Program& program, TimePoint now);
// The same state, normalised for comparison and caching: lots by id with remaining > 0, holds
// open, by id; orders by id.
void normalise(MemberState& state);

// When the lot's points stop being spendable (fixed expiry or the inactivity deadline).
std::optional<TimePoint> lot_expiry(const LotRow& lot, const MemberRow& member,
                                    const Program& program);

struct Totals {
  Points spendable = 0;  // vested, not expired
  Points pending = 0;    // not yet vested, not expired
  Points expired = 0;    // past expiry, not yet posted by an expire entry
  Points held = 0;       // open holds not past their ttl
  Points lots = 0;       // sum of remaining
};
Totals compute_totals(const MemberState& state, const Program& program, TimePoint now);
inline Points available(const Totals& t, Points debt) {
  return t.spendable - t.held - debt;
}

Points qualifying_points_at(Store& store, const Program& program, const std::string& member_id,
                            TimePoint now);
// From the state's orders when they cover the window ending at `now`, else nullopt.
std::optional<Points> qualifying_from_state(const MemberState& state, const Program& program,
                                            TimePoint now);
// From the state when it can, else one query.
Points qualifying_points_at(Store& store, const Program& program, const MemberState& state,
                            TimePoint now);
// The tier a read shows now (pending downgrades/upgrades applied, nothing written).
std::size_t effective_tier(const Program& program, const MemberRow& row, TimePoint now,
                           Points qualifying);
std::size_t effective_tier(Store& store, const Program& program, const MemberRow& row,
                           TimePoint now, Points* qualifying_out);

BalanceView balance_view(const MemberState& state, const Program& program, TimePoint now,
                         Points qualifying);
BalanceView balance_view(Store& store, const MemberState& state, const Program& program,
                         TimePoint now);
MemberProfile member_profile(const MemberState& state, const Program& program, TimePoint now,
                             Points qualifying);
MemberProfile member_profile(Store& store, const MemberState& state, const Program& program,
                             TimePoint now);

}  // namespace encore
