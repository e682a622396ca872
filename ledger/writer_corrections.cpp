// Admin corrections: reversing one entry with a reason (SPEC 2, 5 `POST /entries/{id}/reversal`).
// A correction is always a new entry that references the corrected one.
#include <algorithm>

#include "ledger/writer_impl.h"

namespace encore {
namespace {

Entry correction(const Entry& original, EntryKind kind, const std::string& reason,
                 const Actor& actor, TimePoint now) {
  Entry e = new_entry(original.member_id, kind, now);
  e.order_id = original.order_id;
  e.hold_id = original.hold_id;
  e.promotion_id = original.promotion_id;
  e.reason = reason;
  e.ref_entry_id = original.id;
  e.actor = actor.name;
  return e;
}

// Puts drawn points back into the very lots they came from, with their original expiry.
Points put_back(Posting& p, MemberState& state, const std::vector<LotDraw>& draws) {
  Points total = 0;
  for (const auto& d : draws) {
    p.credit_existing_lot(state, d.lot_id, d.points);
    total += d.points;
  }
  return total;
}

}  // namespace

Result<PostingResult> Writer::reverse_entry(std::int64_t entry_id, const std::string& reason,
                                            const Actor& actor) {
  if (auto e = check_reason(reason)) return *e;
  return isolated<PostingResult>([&](Posting& p) -> Result<PostingResult> {
    auto original = p.store().entry(entry_id);
    if (!original) {
      return make_error(ErrorCode::not_found, "entry_id", "no entry " + std::to_string(entry_id));
    }
    if (p.store().reversal_of(entry_id)) {
      return make_error(ErrorCode::already_reversed, "entry_id",
                        "entry " + std::to_string(entry_id) + " was already reversed");
    }
    auto state = p.load(original->member_id, "entry_id");
    if (!state) return state.error();
    const auto now = p.now();
    switch (original->kind) {
      case EntryKind::earn:
      case EntryKind::bonus: {
        auto order = p.store().order(original->order_id.value_or(""));
        Points due = original->points;
        if (order && original->kind == EntryKind::earn) {
          due = order->earned_points - order->reversed_due;
          order->reversed_due = order->earned_points;
          order->base_reversed = order->base_points;
        } else if (order) {
          // A purchase can trigger several bonuses (one entry each, `bonus_points` their sum).
          // `bonus_reversed` counts every bonus point taken back, by reversals of single bonus
          // entries and by a full refund (all that is left): so this entry gives back its own
          // points at most, and a later full refund takes back only the other bonuses.
          due = std::min(original->points, order->bonus_points - order->bonus_reversed);
          order->bonus_reversed += due;
        }
        if (due <= 0) {
          return make_error(ErrorCode::already_reversed, "entry_id",
                            "its points were already taken back by refunds");
        }
        if (order) p.update_order(*state, *order);
        auto own = own_lots(*state, {lot_of_entry(*state, original->id)});
        // Under "clamp" nothing may be reversible (the points were spent): then take_back posts
        // no entry, and the reversal is refused rather than recorded without one.
        Points taken = take_back(p, *state, due, own,
                                 correction(*original, EntryKind::reverse, reason, actor, now));
        if (taken == 0) {
          return insufficient(available(compute_totals(*state, p.program(), now), state->row.debt),
                              due);
        }
        break;
      }
      case EntryKind::redeem: {
        auto e = correction(*original, EntryKind::restore, reason, actor, now);
        e.points = put_back(p, *state, original->lots);
        e.lots = original->lots;
        p.post(*state, std::move(e));
        break;
      }
      case EntryKind::adjust: {
        auto e = correction(*original, EntryKind::adjust, reason, actor, now);
        if (original->points < 0) {
          e.points = put_back(p, *state, original->lots);
          e.lots = original->lots;
          p.post(*state, std::move(e));
          break;
        }
        Points avail = available(compute_totals(*state, p.program(), now), state->row.debt);
        if (avail < original->points) return insufficient(avail, original->points);
        std::vector<LotRow*> order = own_lots(*state, {lot_of_entry(*state, original->id)});
        for (auto* lot : p.spendable_fifo(*state)) {
          if (std::find(order.begin(), order.end(), lot) == order.end()) order.push_back(lot);
        }
        e.lots = p.draw(*state, original->points, order);
        std::erase_if(state->lots, [](const LotRow& l) { return l.remaining == 0; });
        e.points = -original->points;
        p.post(*state, std::move(e));
        break;
      }
      case EntryKind::reverse:
      case EntryKind::restore:
      case EntryKind::expire:
        return make_error(ErrorCode::not_reversible, "entry_id",
                          std::string(to_string(original->kind)) +
                              " entries cannot be reversed; post an adjustment instead");
    }
    p.store().insert_reversal(entry_id, p.posted().back().id);
    p.save(*state);
    p.refresh_tier(*state, now);
    PostingResult out;
    out.member_id = state->row.member_id;
    out.entries = p.posted();
    out.balance = p.balance(*state);
    return out;
  });
}

}  // namespace encore
