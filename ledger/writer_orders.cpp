// Purchases and refunds (SPEC 4).
#include <algorithm>

#include "ledger/earn_plan.h"
#include "ledger/rules.h"
#include "ledger/writer_impl.h"

namespace encore {
namespace {

// Purchases may be posted late (an offline till), never from the future beyond clock skew.
constexpr auto max_clock_skew = std::chrono::minutes{5};

std::optional<Error> check_purchase(const PurchaseRequest& r, const Program& program,
                                    TimePoint now) {
  if (auto e = check_member_id(r.member_id, "member_id")) return e;
  if (auto e = check_order_id(r.order_id, "order_id")) return e;
  if (r.amount_minor < 1 || r.amount_minor > max_amount_minor) {
    return make_error(ErrorCode::invalid_request, "amount_minor",
                      "must be an integer from 1 to 2^53-1");
  }
  bool iso = r.currency.size() == 3 && std::all_of(r.currency.begin(), r.currency.end(),
                                                   [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!iso) {
    return make_error(ErrorCode::invalid_request, "currency", "must be an ISO 4217 code");
  }
  if (r.currency != program.currency) {
    return make_error(ErrorCode::currency_mismatch, "currency",
                      "the program's currency is " + program.currency);
  }
  if (r.occurred_at && *r.occurred_at > now + max_clock_skew) {
    return make_error(ErrorCode::invalid_request, "occurred_at", "lies in the future");
  }
  return check_text(r.store_id, "store_id", 64);
}

void record_purchase(MemberRow& row, TimePoint occurred_at) {
  row.purchase_count += 1;
  if (!row.first_purchase_at || occurred_at < *row.first_purchase_at) {
    row.first_purchase_at = occurred_at;
  }
  if (!row.last_purchase_at || occurred_at > *row.last_purchase_at) {
    row.last_purchase_at = occurred_at;
  }
  if (!row.last_activity_at || occurred_at > *row.last_activity_at) {
    row.last_activity_at = occurred_at;
  }
}

}  // namespace

Result<PurchaseResult> Writer::purchase(const PurchaseRequest& request, const Actor& actor) {
  if (auto e = check_purchase(request, program_, clock_.now())) return *e;
  return isolated<PurchaseResult>([&](Posting& p) -> Result<PurchaseResult> {
    if (p.store().order(request.order_id)) {
      return make_error(ErrorCode::order_already_posted, "order_id",
                        "order '" + request.order_id + "' was already posted");
    }
    auto state = p.load(request.member_id, "member_id");
    if (!state) return state.error();
    const TimePoint occurred = request.occurred_at.value_or(p.now());
    // The purchase earns at the tier it started in; an upgrade applies from the next one.
    std::size_t tier = p.program().tier_index(state->row.tier);
    record_purchase(state->row, occurred);
    OrderRow order;
    order.order_id = request.order_id;
    order.member_id = request.member_id;
    order.amount_minor = request.amount_minor;
    order.currency = request.currency;
    order.occurred_at = occurred;
    order.store_id = request.store_id;
    // Planned before the order row exists (so it counts itself as one more order), and the row is
    // inserted once, complete, at the end: one write instead of an insert and an update.
    auto plan = plan_earn(p.store(), p.program(), state->row, tier, request.amount_minor, occurred,
                          *state->row.first_purchase_at, false);
    if (!plan) return plan.error();
    order.base_points = plan->base_points;
    order.earned_points = plan->earn_points;
    const TimePoint vests = occurred + std::chrono::days{p.program().pending_days};
    if (plan->earn_points > 0) {
      Entry e = new_entry(request.member_id, EntryKind::earn, occurred, plan->earn_points);
      e.order_id = request.order_id;
      e.promotion_id = plan->campaign_id;
      e.actor = actor.name;
      order.earn_entry_id = p.post(*state, std::move(e)).id;
      order.earn_lot_id =
          p.credit_new_lot(*state, *order.earn_entry_id, plan->earn_points, occurred, vests);
    }
    for (const auto& bonus : plan->bonuses) {
      Entry e = new_entry(request.member_id, EntryKind::bonus, occurred, bonus.points);
      e.order_id = request.order_id;
      e.promotion_id = bonus.promotion_id;
      e.actor = actor.name;
      auto entry_id = p.post(*state, std::move(e)).id;
      p.credit_new_lot(*state, entry_id, bonus.points, occurred, vests);
      p.store().insert_promotion_award(request.member_id, bonus.promotion_id, request.order_id,
                                       entry_id);
      if (!order.bonus_entry_id) order.bonus_entry_id = entry_id;
      order.bonus_points += bonus.points;
    }
    p.insert_order(*state, order);
    p.save(*state);
    p.refresh_tier(*state, p.now());
    PurchaseResult out;
    out.order_id = request.order_id;
    out.member_id = request.member_id;
    out.points_earned = plan->earn_points;
    out.bonus_points = order.bonus_points;
    out.tier = state->row.tier;
    out.entries = p.posted();
    out.balance = p.balance(*state);
    return out;
  });
}

std::vector<LotRow*> own_lots(MemberState& state,
                              const std::vector<std::optional<std::int64_t>>& lot_ids) {
  std::vector<LotRow*> out;
  for (const auto& id : lot_ids) {
    if (!id) continue;
    for (auto& lot : state.lots) {
      // Each lot once: the clamp in take_back sums the own lots' pending points.
      if (lot.id == *id && lot.remaining > 0 &&
          std::find(out.begin(), out.end(), &lot) == out.end()) {
        out.push_back(&lot);
      }
    }
  }
  return out;
}

std::optional<std::int64_t> lot_of_entry(const MemberState& state, std::int64_t entry_id) {
  for (const auto& lot : state.lots) {
    if (lot.entry_id == entry_id) return lot.id;
  }
  return std::nullopt;
}

// Takes `due` points back for a refund or a reversal (SPEC 4): first out of the purchase's own
// unspent lots, then other unheld spendable lots, then pending ones; what is left becomes debt
// ("debt") or is forgiven ("clamp", which never goes below zero nor into held points).
Points take_back(Posting& p, MemberState& state, Points due, const std::vector<LotRow*>& own,
                 Entry entry) {
  if (due <= 0) return 0;
  const auto& program = p.program();
  Totals totals = compute_totals(state, program, p.now());
  if (program.refund_shortfall == RefundShortfall::clamp) {
    Points own_pending = 0;
    for (const auto* lot : own) {
      if (lot->vests_at > p.now()) own_pending += lot->remaining;
    }
    due = std::min(due, own_pending + std::max<Points>(0, available(totals, state.row.debt)));
    if (due <= 0) return 0;
  }
  // Fix (model test): the own lot's spendable points used to be drawn regardless of holds, so a
  // refund could take points an open hold reserved and leave available < 0 with no debt (SPEC 2:
  // only a recorded shortfall may do that). Held points are now never taken: the own lot's
  // pending points come first, then its spendable points and other lots' spendable points only
  // as far as they are free (not held, not owed); the rest comes from pending lots or is debt.
  std::vector<LotRow*> own_pending;
  std::vector<LotRow*> own_spendable;
  for (auto* lot : own) (lot->vests_at > p.now() ? own_pending : own_spendable).push_back(lot);
  Points free_spendable = std::max<Points>(0, totals.spendable - totals.held - state.row.debt);
  auto draws = p.draw(state, due, own_pending);
  Points drawn = 0;
  for (const auto& d : draws) drawn += d.points;
  auto own_free = p.draw(state, std::min(due - drawn, free_spendable), own_spendable);
  for (const auto& d : own_free) {
    drawn += d.points;
    free_spendable -= d.points;
  }
  draws.insert(draws.end(), own_free.begin(), own_free.end());
  auto more = p.draw(state, std::min(due - drawn, free_spendable), p.spendable_fifo(state));
  for (const auto& d : more) drawn += d.points;
  draws.insert(draws.end(), more.begin(), more.end());
  auto pending = p.draw(state, due - drawn, p.pending_fifo(state));
  for (const auto& d : pending) drawn += d.points;
  draws.insert(draws.end(), pending.begin(), pending.end());
  state.row.debt = checked_add(state.row.debt, due - drawn);
  std::erase_if(state.lots, [](const LotRow& l) { return l.remaining == 0; });
  entry.points = -due;
  entry.lots = std::move(draws);
  p.post(state, std::move(entry));
  return due;
}

Result<RefundResult> Writer::refund(const RefundRequest& request, const Actor& actor) {
  if (auto e = check_order_id(request.order_id, "order_id")) return *e;
  if (auto e = check_order_id(request.refund_id, "refund_id")) return *e;
  if (request.amount_minor < 1 || request.amount_minor > max_amount_minor) {
    return make_error(ErrorCode::invalid_request, "amount_minor",
                      "must be an integer from 1 to 2^53-1");
  }
  return isolated<RefundResult>([&](Posting& p) -> Result<RefundResult> {
    auto order = p.store().order(request.order_id);
    if (!order) {
      return make_error(ErrorCode::not_found, "order_id",
                        "no purchase with order_id '" + request.order_id + "'");
    }
    if (p.store().refund(request.refund_id)) {
      return make_error(ErrorCode::order_already_posted, "refund_id",
                        "refund '" + request.refund_id + "' was already posted");
    }
    if (request.amount_minor > order->amount_minor - order->refunded_minor) {
      return make_error(ErrorCode::refund_exceeds_purchase, "amount_minor",
                        "only " + std::to_string(order->amount_minor - order->refunded_minor) +
                            " minor units of the purchase remain refundable");
    }
    auto state = p.load(order->member_id, "order_id");
    if (!state) return state.error();
    order->refunded_minor += request.amount_minor;
    // Cumulative floors: the parts of several partial refunds always sum exactly.
    Points due_total =
        proportional_floor(order->earned_points, order->refunded_minor, order->amount_minor);
    // An admin reversal of the earn entry may already have taken back more than this share:
    // never lower what was reversed (that would let a later refund take the points twice).
    Points due = std::max<Points>(0, due_total - order->reversed_due);
    order->reversed_due = std::max(order->reversed_due, due_total);
    order->base_reversed = std::max(
        order->base_reversed,
        proportional_floor(order->base_points, order->refunded_minor, order->amount_minor));
    // The purchase's own lots are its earn lot and the lots of every bonus it triggered (one
    // per promotion). Looked up afresh for each take_back: it drops the lots it empties.
    // (Every bonus has had its promotion_awards row since the first schema; an order without
    // a bonus needs no lookup.)
    std::vector<std::int64_t> bonus_entries;
    if (order->bonus_entry_id) {
      bonus_entries = p.store().awarded_bonus_entries(order->member_id, order->order_id);
    }
    auto purchase_lots = [&](std::optional<std::int64_t> first_lot_id) {
      std::vector<std::optional<std::int64_t>> ids{first_lot_id, order->earn_lot_id};
      for (auto entry_id : bonus_entries) ids.push_back(lot_of_entry(*state, entry_id));
      return own_lots(*state, ids);
    };
    Entry e = new_entry(order->member_id, EntryKind::reverse, p.now());
    e.order_id = order->order_id;
    e.refund_id = request.refund_id;
    e.ref_entry_id = order->earn_entry_id;
    e.actor = actor.name;
    Points reversed = take_back(p, *state, due, purchase_lots(std::nullopt), e);
    if (order->refunded_minor == order->amount_minor) {
      // A full refund also takes back the bonuses this purchase triggered: one reverse entry per
      // bonus, out of that bonus's own lot first. A bonus an admin reversal already took back is
      // skipped (`bonus_reversed` counted it), and the total never exceeds what is left of
      // `bonus_points` (rows written before reversals were counted per bonus stay exact too).
      Points bonus_left = order->bonus_points - order->bonus_reversed;
      order->bonus_reversed = order->bonus_points;
      for (auto entry_id : bonus_entries) {
        if (bonus_left <= 0) break;
        if (p.store().reversal_of(entry_id)) continue;
        auto bonus = p.store().entry(entry_id);
        if (!bonus || bonus->kind != EntryKind::bonus) continue;
        Points bonus_due = std::min(bonus->points, bonus_left);
        bonus_left -= bonus_due;
        e.promotion_id = bonus->promotion_id;
        e.ref_entry_id = entry_id;
        reversed +=
            take_back(p, *state, bonus_due, purchase_lots(lot_of_entry(*state, entry_id)), e);
      }
    }
    p.update_order(*state, *order);
    p.store().insert_refund(
        RefundRow{request.refund_id, request.order_id, request.amount_minor, reversed, p.now()});
    p.save(*state);
    p.refresh_tier(*state, p.now());
    RefundResult out;
    out.refund_id = request.refund_id;
    out.order_id = request.order_id;
    out.member_id = order->member_id;
    out.points_reversed = reversed;
    out.entries = p.posted();
    out.balance = p.balance(*state);
    return out;
  });
}

}  // namespace encore
