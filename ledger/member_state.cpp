#include "ledger/member_state.h"

#include <algorithm>
#include <cassert>
#include <map>

#include "ledger/rules.h"

namespace encore {

std::optional<MemberState> load_member_state(Store& store, const std::string& member_id) {
  auto row = store.member(member_id);
  if (!row) return std::nullopt;
  MemberState state;
  state.row = std::move(*row);
  state.lots = store.open_lots(member_id);
  state.holds = store.open_holds(member_id);
  return state;
}

std::optional<MemberState> load_member_state(Store& store, const std::string& member_id,
                                             const Program& program, TimePoint now) {
  auto loaded = load_member_state(store, member_id);
  if (!loaded) return std::nullopt;
  MemberState& state = *loaded;
  // One more than the cache keeps tells "too many": then the orders are not kept at all and
  // qualifying points come from a query each time.
  const TimePoint after = now - std::chrono::days{program.tier_window_days};
  state.orders = store.qualifying_orders(member_id, after, max_window_orders + 1);
  if (state.orders.size() <= max_window_orders) {
    state.orders_after = after;
  } else {
    state.orders.clear();
  }
  return loaded;
}

void normalise(MemberState& state) {
  std::erase_if(state.lots, [](const LotRow& l) { return l.remaining == 0; });
  std::sort(state.lots.begin(), state.lots.end(),
            [](const LotRow& a, const LotRow& b) { return a.id < b.id; });
  std::erase_if(state.holds, [](const HoldView& h) { return h.state != HoldState::open; });
  std::sort(state.holds.begin(), state.holds.end(),
            [](const HoldView& a, const HoldView& b) { return a.hold_id < b.hold_id; });
  std::sort(
      state.orders.begin(), state.orders.end(),
      [](const QualifyingOrder& a, const QualifyingOrder& b) { return a.order_id < b.order_id; });
}

std::optional<TimePoint> lot_expiry(const LotRow& lot, const MemberRow& member,
                                    const Program& program) {
  std::optional<TimePoint> out = lot.expires_at;
  auto deadline =
      inactivity_deadline(program, member.last_activity_at.value_or(member.enrolled_at));
  if (deadline && (!out || *deadline < *out)) out = deadline;
  return out;
}

Totals compute_totals(const MemberState& state, const Program& program, TimePoint now) {
  Totals t;
  for (const auto& lot : state.lots) {
    assert(lot.remaining >= 0 && lot.remaining <= lot.original && "lot out of range");
    t.lots += lot.remaining;
    auto expiry = lot_expiry(lot, state.row, program);
    if (expiry && *expiry <= now) {
      t.expired += lot.remaining;
    } else if (lot.vests_at > now) {
      t.pending += lot.remaining;
    } else {
      t.spendable += lot.remaining;
    }
  }
  for (const auto& hold : state.holds) {
    if (hold.state == HoldState::open && hold.expires_at > now) t.held += hold.points;
  }
  // Fix (model test): a hold outliving the lots it reserved (they expired under it) showed
  // held > spendable, i.e. available < 0 with no debt (SPEC 2). Expired points are never
  // spendable, so a hold reserves at most the spendable points that are left.
  t.held = std::min(t.held, t.spendable);
  return t;
}

Points qualifying_points_at(Store& store, const Program& program, const std::string& member_id,
                            TimePoint now) {
  return store.qualifying_points(member_id, now - std::chrono::days{program.tier_window_days}, now);
}

std::optional<Points> qualifying_from_state(const MemberState& state, const Program& program,
                                            TimePoint now) {
  const TimePoint from = now - std::chrono::days{program.tier_window_days};
  if (!state.orders_after || from < *state.orders_after) return std::nullopt;
  Points sum = 0;
  for (const auto& o : state.orders) {
    if (o.occurred_at > from && o.occurred_at <= now) sum += o.points;
  }
  return sum;
}

Points qualifying_points_at(Store& store, const Program& program, const MemberState& state,
                            TimePoint now) {
  if (auto q = qualifying_from_state(state, program, now)) return *q;
  return qualifying_points_at(store, program, state.row.member_id, now);
}

std::size_t effective_tier(const Program& program, const MemberRow& row, TimePoint now,
                           Points qualifying) {
  return evaluate_tier(program, program.tier_index(row.tier), row.tier_reached_at, qualifying, now)
      .tier_index;
}

std::size_t effective_tier(Store& store, const Program& program, const MemberRow& row,
                           TimePoint now, Points* qualifying_out) {
  Points q = qualifying_points_at(store, program, row.member_id, now);
  if (qualifying_out != nullptr) *qualifying_out = q;
  return effective_tier(program, row, now, q);
}

namespace {

std::vector<ExpiringPoints> next_expiring(const MemberState& state, const Program& program,
                                          TimePoint now) {
  std::map<date::sys_days, Points> by_day;
  for (const auto& lot : state.lots) {
    auto expiry = lot_expiry(lot, state.row, program);
    if (!expiry || *expiry <= now) continue;
    // Points expire at the end of the local day before the instant `expiry`.
    Date day = local_date(*expiry - std::chrono::seconds{1}, program.zone);
    by_day[date::sys_days{day}] += lot.remaining;
  }
  std::vector<ExpiringPoints> out;
  for (const auto& [day, points] : by_day) {
    if (out.size() >= static_cast<std::size_t>(max_expiring_dates)) break;
    out.push_back(ExpiringPoints{Date{day}, points});
  }
  return out;
}

}  // namespace

BalanceView balance_view(Store& store, const MemberState& state, const Program& program,
                         TimePoint now) {
  return balance_view(state, program, now, qualifying_points_at(store, program, state, now));
}

BalanceView balance_view(const MemberState& state, const Program& program, TimePoint now,
                         Points qualifying) {
  Totals t = compute_totals(state, program, now);
  BalanceView v;
  // Points past expiry are shown as gone even before the expiry run posts their entry.
  v.balance = state.row.balance - t.expired;
  v.pending = t.pending;
  v.held = t.held;
  v.debt = state.row.debt;
  v.available = available(t, state.row.debt);
  v.qualifying_points = qualifying;
  std::size_t tier = effective_tier(program, state.row, now, qualifying);
  v.tier = program.tiers[tier].name;
  if (tier + 1 < program.tiers.size()) {
    const auto& next = program.tiers[tier + 1];
    v.next_tier = NextTier{next.name, std::max<Points>(0, next.threshold - v.qualifying_points)};
  }
  v.expiring = next_expiring(state, program, now);
  return v;
}

MemberProfile member_profile(Store& store, const MemberState& state, const Program& program,
                             TimePoint now) {
  return member_profile(state, program, now, qualifying_points_at(store, program, state, now));
}

MemberProfile member_profile(const MemberState& state, const Program& program, TimePoint now,
                             Points qualifying) {
  Totals t = compute_totals(state, program, now);
  MemberProfile p;
  p.member_id = state.row.member_id;
  p.email = state.row.email;
  p.phone = state.row.phone;
  p.locale = state.row.locale;
  p.marketing_opt_in = state.row.marketing_opt_in;
  p.tier = program.tiers[effective_tier(program, state.row, now, qualifying)].name;
  p.balance = state.row.balance - t.expired;
  p.enrolled_at = state.row.enrolled_at;
  return p;
}

}  // namespace encore
