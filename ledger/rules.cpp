#include "ledger/rules.h"

#include <cassert>

namespace encore {

// 128-bit intermediate products (GCC/Clang extension; __extension__ keeps -Wpedantic quiet).
__extension__ using Int128 = __int128;

std::optional<Points> earned_points(const EarnRule& earn, std::int64_t amount_minor,
                                    std::int64_t tier_bp, std::int64_t campaign_bp) {
  assert(amount_minor >= 0 && earn.unit_minor > 0 && "earn inputs validated upstream");
  // Bounds (amount < 2^53, points_per_unit <= 1e6, bp <= 1e6) keep this below 2^113.
  Int128 numerator = static_cast<Int128>(amount_minor) * earn.points_per_unit * tier_bp;
  numerator *= campaign_bp;
  Int128 denominator = static_cast<Int128>(earn.unit_minor) * 10'000 * 10'000;
  Int128 points = numerator / denominator;
  if (points > max_points_per_request) return std::nullopt;
  return static_cast<Points>(points);
}

Points proportional_floor(Points total, std::int64_t numerator, std::int64_t denominator) {
  assert(denominator > 0 && numerator >= 0 && total >= 0 && "proportional_floor domain");
  return static_cast<Points>(static_cast<Int128>(total) * numerator / denominator);
}

CampaignMultiplier campaign_multiplier(const Program& program, Date day) {
  CampaignMultiplier best;
  for (const auto& promotion : program.promotions) {
    const auto* campaign = std::get_if<MultiplierCampaign>(&promotion);
    if (campaign == nullptr) continue;
    if (date::sys_days{day} < date::sys_days{campaign->from} ||
        date::sys_days{day} > date::sys_days{campaign->to}) {
      continue;
    }
    if (!best.promotion_id || campaign->multiplier_bp > best.multiplier_bp) {
      best.multiplier_bp = campaign->multiplier_bp;
      best.promotion_id = campaign->id;
    }
  }
  return best;
}

std::size_t supported_tier(const Program& program, Points qualifying) {
  std::size_t index = 0;
  for (std::size_t i = 0; i < program.tiers.size(); ++i) {
    if (qualifying >= program.tiers[i].threshold) index = i;
  }
  return index;
}

TierDecision evaluate_tier(const Program& program, std::size_t current_index, TimePoint reached_at,
                           Points qualifying, TimePoint now) {
  std::size_t supported = supported_tier(program, qualifying);
  if (supported > current_index) return {supported, true, "upgrade"};
  auto held_until = reached_at + std::chrono::days{program.tier_hold_days};
  if (supported < current_index && now >= held_until) return {supported, true, "downgrade"};
  return {current_index, false, {}};
}

std::optional<TimePoint> fixed_term_expiry(const Program& program, TimePoint occurred_at) {
  if (program.expiry.policy != ExpiryPolicy::fixed_term) return std::nullopt;
  Date day = local_date(occurred_at, program.zone);
  return end_of_local_day(add_days(day, program.expiry.days), program.zone);
}

std::optional<TimePoint> inactivity_deadline(const Program& program, TimePoint last_activity) {
  if (program.expiry.policy != ExpiryPolicy::inactivity) return std::nullopt;
  Date day = local_date(last_activity, program.zone);
  return end_of_local_day(add_days(day, program.expiry.days), program.zone);
}

}  // namespace encore
