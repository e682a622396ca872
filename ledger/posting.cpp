#include "ledger/posting.h"

#include <algorithm>
#include <cassert>
#include <map>
#include <stdexcept>

#include "ledger/chain.h"
#include "ledger/rules.h"

namespace encore {

Entry new_entry(const std::string& member_id, EntryKind kind, TimePoint occurred_at,
                Points points) {
  Entry e;
  e.member_id = member_id;
  e.kind = kind;
  e.occurred_at = occurred_at;
  e.points = points;
  return e;
}

Points checked_add(Points a, Points b) {
  Points out = 0;
  if (__builtin_add_overflow(a, b, &out)) throw std::overflow_error("points overflow");
  return out;
}

Result<StateRef> Posting::load(const std::string& member_id, const std::string& field) {
  for (auto& owned : owned_) {
    if (owned.row.member_id == member_id) return StateRef(owned);  // already loaded in this op
  }
  std::optional<MemberState> state;
  if (batch_ != nullptr && unstaged_.count(member_id) == 0) {
    // Newest first: this batch's own staged state, else the cache (exact as of the last commit)
    // unless the batch changed the member without staging it.
    if (auto it = batch_->staged.find(member_id); it != batch_->staged.end()) {
      state = it->second;
    } else if (batch_->cache != nullptr && batch_->dropped.count(member_id) == 0) {
      if (auto cached = batch_->cache->find(member_id)) state = *cached;
    }
  }
  if (!state) state = load_member_state(store_, member_id, program_, now_);
  if (!state) {
    return make_error(ErrorCode::not_found, field, "no member with member_id '" + member_id + "'");
  }
  MemberState& owned = adopt(std::move(*state));
  refresh(owned, now_);
  return StateRef(owned);
}

void Posting::save(const MemberState& state) {
  for (const auto& owned : owned_) {
    if (&owned != &state) continue;
    if (std::find(unsaved_.begin(), unsaved_.end(), &state) == unsaved_.end()) {
      unsaved_.push_back(&state);
    }
    return;
  }
  store_.update_member_state(state.row);
}

void Posting::flush() {
  for (const auto* state : unsaved_) store_.update_member_state(state->row);
  unsaved_.clear();
}

MemberState& Posting::adopt(MemberState state) {
  owned_.push_back(std::move(state));
  return owned_.back();
}

std::optional<MemberState> Posting::load_unstaged(const std::string& member_id) {
  unstaged_.insert(member_id);
  return load_member_state(store_, member_id, program_, now_);
}

void Posting::stage(BatchMembers& batch) {
  assert(unsaved_.empty() && "stage() before flush()");
  for (const auto& member_id : unstaged_) {
    batch.staged.erase(member_id);
    batch.dropped.insert(member_id);
  }
  for (auto& state : owned_) {
    if (unstaged_.count(state.row.member_id) != 0) continue;
    normalise(state);
    batch.dropped.erase(state.row.member_id);
    batch.staged.insert_or_assign(state.row.member_id, std::move(state));
  }
  owned_.clear();
  unstaged_.clear();
}

namespace {
void note_order(MemberState& state, const OrderRow& row) {
  assert(row.member_id == state.row.member_id && "order of another member");
  if (!state.orders_after || row.occurred_at <= *state.orders_after) return;
  const Points points = row.base_points - row.base_reversed;
  for (auto& o : state.orders) {
    if (o.order_id == row.order_id) {
      o.occurred_at = row.occurred_at;
      o.points = points;
      return;
    }
  }
  state.orders.push_back(QualifyingOrder{row.order_id, row.occurred_at, points});
}
}  // namespace

void Posting::insert_order(MemberState& state, const OrderRow& row) {
  store_.insert_order(row);
  note_order(state, row);
}

void Posting::update_order(MemberState& state, const OrderRow& row) {
  store_.update_order(row);
  note_order(state, row);
}

void Posting::refresh(MemberState& state, TimePoint as_of) {
  close_stale_holds(state, as_of);
  expire_lots(state, as_of);
  refresh_tier(state, as_of);
}

void Posting::close_stale_holds(MemberState& state, TimePoint as_of) {
  auto stale = [&](const HoldView& h) { return h.expires_at <= as_of; };
  for (const auto& hold : state.holds) {
    if (stale(hold)) store_.close_hold(hold.hold_id, HoldState::expired, hold.expires_at, 0, {});
  }
  std::erase_if(state.holds, stale);
}

void Posting::expire_lots(MemberState& state, TimePoint as_of) {
  // Group overdue lots by the instant they expired: one `expire` entry per instant.
  std::map<TimePoint, std::vector<LotRow*>> overdue;
  for (auto& lot : state.lots) {
    auto expiry = lot_expiry(lot, state.row, program_);
    if (expiry && *expiry <= as_of && lot.remaining > 0) overdue[*expiry].push_back(&lot);
  }
  for (auto& [expired_at, lots] : overdue) {
    Points total = 0;
    for (auto* lot : lots) total += lot->remaining;
    auto draws = draw(state, total, lots);
    Entry e;
    e.member_id = state.row.member_id;
    e.kind = EntryKind::expire;
    e.points = -total;
    e.occurred_at = expired_at;
    e.actor = "system:expiry";
    e.lots = std::move(draws);
    post(state, std::move(e));
  }
  std::erase_if(state.lots, [](const LotRow& l) { return l.remaining == 0; });
}

void Posting::refresh_tier(MemberState& state, TimePoint as_of) {
  Points q = qualifying_points_at(store_, program_, state, as_of);
  std::size_t current = program_.tier_index(state.row.tier);
  auto decision = evaluate_tier(program_, current, state.row.tier_reached_at, q, as_of);
  if (!decision.changed) return;
  const std::string& to = program_.tiers[decision.tier_index].name;
  store_.insert_tier_change(state.row.member_id,
                            TierChange{state.row.tier, to, as_of, q, decision.reason});
  state.row.tier = to;
  state.row.tier_reached_at = as_of;
  save(state);
}

const Entry& Posting::post(MemberState& state, Entry entry) {
  assert(entry.member_id == state.row.member_id && "entry for another member");
  assert(entry.points != 0 && "zero-point entries are not posted");
  entry.id = last_id_ + 1;
  entry.recorded_at = recorded_at_;
  entry.hash = chain_hash(last_hash_, entry);
  store_.insert_entry(entry);
  last_id_ = entry.id;
  last_hash_ = entry.hash;
  state.row.balance = checked_add(state.row.balance, entry.points);
  save(state);
  posted_.push_back(std::move(entry));
  return posted_.back();
}

std::vector<LotDraw> Posting::draw(MemberState& state, Points points,
                                   const std::vector<LotRow*>& order) {
  (void)state;
  assert(points >= 0 && "negative draw");
  std::vector<LotDraw> draws;
  for (auto* lot : order) {
    if (points == 0) break;
    Points take = std::min(points, lot->remaining);
    if (take == 0) continue;
    lot->remaining -= take;
    assert(lot->remaining >= 0 && "lot overdrawn");
    store_.set_lot_remaining(lot->id, lot->remaining);
    draws.push_back(LotDraw{lot->id, take});
    points -= take;
  }
  return draws;
}

namespace {
std::vector<LotRow*> fifo(MemberState& state, const Program& program, TimePoint now,
                          bool want_pending) {
  std::vector<LotRow*> out;
  for (auto& lot : state.lots) {
    auto expiry = lot_expiry(lot, state.row, program);
    if (lot.remaining == 0 || (expiry && *expiry <= now)) continue;
    if ((lot.vests_at > now) == want_pending) out.push_back(&lot);
  }
  std::stable_sort(out.begin(), out.end(), [&](const LotRow* a, const LotRow* b) {
    auto ea = lot_expiry(*a, state.row, program).value_or(TimePoint::max());
    auto eb = lot_expiry(*b, state.row, program).value_or(TimePoint::max());
    if (ea != eb) return ea < eb;
    return a->id < b->id;
  });
  return out;
}
}  // namespace

std::vector<LotRow*> Posting::spendable_fifo(MemberState& state) {
  return fifo(state, program_, now_, false);
}

std::vector<LotRow*> Posting::pending_fifo(MemberState& state) {
  return fifo(state, program_, now_, true);
}

std::int64_t Posting::credit_new_lot(MemberState& state, std::int64_t entry_id, Points points,
                                     TimePoint earned_at, TimePoint vests_at,
                                     std::optional<TimePoint> expires_at) {
  assert(points > 0 && "lots hold positive points");
  // Debt left by a refund shortfall is paid off by later earnings first (SPEC 4).
  Points pay = std::min(state.row.debt, points);
  state.row.debt -= pay;
  LotRow lot;
  lot.member_id = state.row.member_id;
  lot.entry_id = entry_id;
  lot.original = points;
  lot.remaining = points - pay;
  lot.earned_at = earned_at;
  lot.vests_at = vests_at;
  lot.expires_at = expires_at ? expires_at : fixed_term_expiry(program_, earned_at);
  lot.program_version = program_.version;
  lot.id = store_.insert_lot(lot);
  if (lot.remaining > 0) state.lots.push_back(lot);
  save(state);
  return lot.id;
}

void Posting::credit_existing_lot(MemberState& state, std::int64_t lot_id, Points points) {
  auto it = std::find_if(state.lots.begin(), state.lots.end(),
                         [&](const LotRow& l) { return l.id == lot_id; });
  LotRow lot;
  if (it != state.lots.end()) {
    lot = *it;
  } else {
    auto stored = store_.lot(lot_id);
    if (!stored) throw std::logic_error("restore into a missing lot");
    lot = *stored;
  }
  Points pay = std::min(state.row.debt, points);
  state.row.debt -= pay;
  lot.remaining += points - pay;
  assert(lot.remaining <= lot.original && "restore beyond the lot's original points");
  store_.set_lot_remaining(lot.id, lot.remaining);
  if (it != state.lots.end()) {
    *it = lot;
  } else if (lot.remaining > 0) {
    state.lots.push_back(lot);
    std::sort(state.lots.begin(), state.lots.end(),
              [](const LotRow& a, const LotRow& b) { return a.id < b.id; });
  }
  save(state);
}

}  // namespace encore
