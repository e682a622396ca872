// Pure rule arithmetic (SPEC 1 and 3): no store, no clock. Unit-tested directly.
#pragma once

#include <optional>

#include "ledger/program.h"
#include "ledger/types.h"

namespace encore {

// floor(amount × points_per_unit × tier_bp × campaign_bp / (unit_minor × 10000 × 10000)),
// computed in 128 bits. nullopt when the result does not fit max_points_per_request.
std::optional<Points> earned_points(const EarnRule& earn, std::int64_t amount_minor,
                                    std::int64_t tier_bp, std::int64_t campaign_bp);

// floor(total × numerator / denominator) in 128 bits; denominator > 0, all non-negative.
Points proportional_floor(Points total, std::int64_t numerator, std::int64_t denominator);

// The highest multiplier of campaigns running on local date `day` (10000 when none).
struct CampaignMultiplier {
  std::int64_t multiplier_bp = 10'000;
  std::optional<std::string> promotion_id;
};
CampaignMultiplier campaign_multiplier(const Program& program, Date day);

// Tier evaluation: upgrade at once when qualifying points reach a higher threshold; fall only
// after the current tier was held `tier_hold_days`, and then to the tier the points support.
struct TierDecision {
  std::size_t tier_index = 0;
  bool changed = false;
  std::string reason;  // "upgrade" or "downgrade" when changed
};
TierDecision evaluate_tier(const Program& program, std::size_t current_index, TimePoint reached_at,
                           Points qualifying, TimePoint now);

std::size_t supported_tier(const Program& program, Points qualifying);

// When a lot earned at `occurred_at` expires under the fixed-term policy (end of the local day
// N days after the purchase), or nullopt when lots have no fixed expiry.
std::optional<TimePoint> fixed_term_expiry(const Program& program, TimePoint occurred_at);
// The inactivity deadline after activity at `last_activity`, or nullopt when not that policy.
std::optional<TimePoint> inactivity_deadline(const Program& program, TimePoint last_activity);

}  // namespace encore
