// Redemptions, holds, adjustments and entry reversals (SPEC 4, 5).
#include <algorithm>

#include "ledger/writer_impl.h"

namespace encore {

Error insufficient(Points available_points, Points wanted) {
  return make_error(ErrorCode::insufficient_points, "points",
                    "wanted " + std::to_string(wanted) + " points but only " +
                        std::to_string(std::max<Points>(0, available_points)) + " are available");
}

namespace {

PostingResult finish(Posting& p, MemberState& state) {
  p.save(state);
  PostingResult out;
  out.member_id = state.row.member_id;
  out.entries = p.posted();
  out.balance = p.balance(state);
  return out;
}

// Spends `points` soonest-expiring first (SPEC 3) as one entry.
const Entry& spend(Posting& p, MemberState& state, Entry entry, Points points) {
  entry.lots = p.draw(state, points, p.spendable_fifo(state));
  std::erase_if(state.lots, [](const LotRow& l) { return l.remaining == 0; });
  entry.points = -points;
  state.row.last_activity_at = std::max(state.row.last_activity_at.value_or(p.now()), p.now());
  return p.post(state, std::move(entry));
}

}  // namespace

Result<PostingResult> Writer::redeem(const RedemptionRequest& request, const Actor& actor) {
  if (auto e = check_member_id(request.member_id, "member_id")) return *e;
  if (auto e = check_points(request.points, "points")) return *e;
  if (request.order_id) {
    if (auto e = check_order_id(*request.order_id, "order_id")) return *e;
  }
  if (auto e = check_text(request.reward, "reward", 200)) return *e;
  return isolated<PostingResult>([&](Posting& p) -> Result<PostingResult> {
    auto state = p.load(request.member_id, "member_id");
    if (!state) return state.error();
    Points avail = available(compute_totals(*state, p.program(), p.now()), state->row.debt);
    if (avail < request.points) return insufficient(avail, request.points);
    Entry e = new_entry(request.member_id, EntryKind::redeem, p.now());
    e.order_id = request.order_id;
    e.reward = request.reward;
    e.actor = actor.name;
    spend(p, *state, std::move(e), request.points);
    return finish(p, *state);
  });
}

Result<PostingResult> Writer::create_hold(const HoldRequest& request, const Actor& actor) {
  (void)actor;
  if (auto e = check_member_id(request.member_id, "member_id")) return *e;
  if (auto e = check_points(request.points, "points")) return *e;
  if (request.order_id) {
    if (auto e = check_order_id(*request.order_id, "order_id")) return *e;
  }
  auto ttl = request.ttl_seconds.value_or(default_hold_ttl_seconds);
  if (ttl < 1 || ttl > max_hold_ttl_seconds) {
    return make_error(ErrorCode::invalid_request, "ttl_seconds", "must be from 1 to 604800");
  }
  return isolated<PostingResult>([&](Posting& p) -> Result<PostingResult> {
    auto state = p.load(request.member_id, "member_id");
    if (!state) return state.error();
    Points avail = available(compute_totals(*state, p.program(), p.now()), state->row.debt);
    if (avail < request.points) return insufficient(avail, request.points);
    HoldView hold;
    hold.hold_id = "hold_" + random_hex(12);
    hold.member_id = request.member_id;
    hold.points = request.points;
    hold.order_id = request.order_id;
    hold.created_at = p.now();
    hold.expires_at = p.now() + std::chrono::seconds{ttl};
    p.store().insert_hold(hold);
    state->holds.push_back(hold);
    auto out = finish(p, *state);
    out.hold = hold;
    return out;
  });
}

Result<PostingResult> Writer::capture_hold(const std::string& hold_id, std::optional<Points> points,
                                           const Actor& actor) {
  if (points) {
    if (auto e = check_points(*points, "points")) return *e;
  }
  return isolated<PostingResult>([&](Posting& p) -> Result<PostingResult> {
    auto hold = p.store().hold(hold_id);
    if (!hold) return make_error(ErrorCode::not_found, "hold_id", "no hold '" + hold_id + "'");
    auto state = p.load(hold->member_id, "hold_id");
    if (!state) return state.error();
    hold = p.store().hold(hold_id);  // refresh may have expired it
    if (hold->state != HoldState::open) {
      return make_error(ErrorCode::hold_not_open, "hold_id",
                        "hold is " + std::string(to_string(hold->state)));
    }
    Points take = points.value_or(hold->points);
    if (take > hold->points) {
      return make_error(ErrorCode::insufficient_points, "points",
                        "the hold reserves only " + std::to_string(hold->points) + " points");
    }
    // The hold's own points count as available to its capture.
    std::erase_if(state->holds, [&](const HoldView& h) { return h.hold_id == hold_id; });
    Points avail = available(compute_totals(*state, p.program(), p.now()), state->row.debt);
    if (avail < take) return insufficient(avail, take);
    Entry e = new_entry(hold->member_id, EntryKind::redeem, p.now());
    e.order_id = hold->order_id;
    e.hold_id = hold_id;
    e.actor = actor.name;
    auto entry_id = spend(p, *state, std::move(e), take).id;
    // A capture, full or partial, closes the hold and releases the rest at once (SPEC 5).
    p.store().close_hold(hold_id, HoldState::captured, p.now(), take, entry_id);
    hold->state = HoldState::captured;
    hold->captured_points = take;
    auto out = finish(p, *state);
    out.hold = *hold;
    return out;
  });
}

Result<PostingResult> Writer::release_hold(const std::string& hold_id, const Actor& actor) {
  (void)actor;
  return isolated<PostingResult>([&](Posting& p) -> Result<PostingResult> {
    auto hold = p.store().hold(hold_id);
    if (!hold) return make_error(ErrorCode::not_found, "hold_id", "no hold '" + hold_id + "'");
    auto state = p.load(hold->member_id, "hold_id");
    if (!state) return state.error();
    hold = p.store().hold(hold_id);
    if (hold->state != HoldState::open) {
      return make_error(ErrorCode::hold_not_open, "hold_id",
                        "hold is " + std::string(to_string(hold->state)));
    }
    p.store().close_hold(hold_id, HoldState::released, p.now(), 0, {});
    std::erase_if(state->holds, [&](const HoldView& h) { return h.hold_id == hold_id; });
    hold->state = HoldState::released;
    auto out = finish(p, *state);
    out.hold = *hold;
    return out;
  });
}

Result<PostingResult> Writer::adjust(const AdjustRequest& request, const Actor& actor) {
  if (auto e = check_member_id(request.member_id, "member_id")) return *e;
  if (request.points == 0 || request.points > max_points_per_request ||
      request.points < -max_points_per_request) {
    return make_error(ErrorCode::invalid_request, "points",
                      "must be a non-zero integer within ±(2^53-1)");
  }
  if (auto e = check_reason(request.reason)) return *e;
  return isolated<PostingResult>([&](Posting& p) -> Result<PostingResult> {
    auto state = p.load(request.member_id, "member_id");
    if (!state) return state.error();
    Entry e = new_entry(request.member_id, EntryKind::adjust, p.now());
    e.reason = request.reason;
    e.actor = actor.name;
    if (request.points > 0) {
      e.points = request.points;
      auto id = p.post(*state, std::move(e)).id;
      p.credit_new_lot(*state, id, request.points, p.now(), p.now(), request.lot_expires_at);
      return finish(p, *state);
    }
    Points avail = available(compute_totals(*state, p.program(), p.now()), state->row.debt);
    if (avail < -request.points) return insufficient(avail, -request.points);
    e.lots = p.draw(*state, -request.points, p.spendable_fifo(*state));
    std::erase_if(state->lots, [](const LotRow& l) { return l.remaining == 0; });
    e.points = request.points;
    p.post(*state, std::move(e));
    return finish(p, *state);
  });
}

}  // namespace encore
