// What a purchase earns (SPEC 1, 3): shared by posting and by the read-only quote.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ledger/program.h"
#include "ledger/result.h"
#include "ledger/store.h"

namespace encore {

struct BonusAward {
  std::string promotion_id;
  Points points = 0;
};

struct EarnPlan {
  Points base_points = 0;  // before multipliers: what tiers qualify on
  Points earn_points = 0;
  std::int64_t tier_multiplier_bp = 10'000;
  std::int64_t campaign_multiplier_bp = 10'000;
  std::optional<std::string> campaign_id;
  std::vector<BonusAward> bonuses;
};

// `orders_in_window_before` counts the member's purchases already recorded; the plan counts the
// purchase being planned on top. `first_purchase_at` is the member's first purchase including
// this one.
Result<EarnPlan> plan_earn(Store& store, const Program& program, const MemberRow& member,
                           std::size_t tier_index, std::int64_t amount_minor, TimePoint occurred_at,
                           TimePoint first_purchase_at, bool purchase_already_recorded);

}  // namespace encore
