#include "ledger/earn_plan.h"

#include "ledger/rules.h"

namespace encore {
namespace {

// The n-th purchase within `within_days` of the first earns a one-time bonus (SPEC 3).
std::vector<BonusAward> nth_purchase_bonuses(Store& store, const Program& program,
                                             const MemberRow& member, TimePoint occurred_at,
                                             TimePoint first, bool already_recorded) {
  std::vector<BonusAward> out;
  for (const auto& promotion : program.promotions) {
    const auto* rule = std::get_if<NthPurchaseBonus>(&promotion);
    if (rule == nullptr) continue;
    auto window_end = first + std::chrono::days{rule->within_days};
    if (occurred_at > window_end) continue;
    if (store.promotion_awarded(member.member_id, rule->id)) continue;
    auto count = store.count_orders(member.member_id, first, window_end);
    if (!already_recorded) ++count;
    if (count >= rule->n) out.push_back(BonusAward{rule->id, rule->bonus_points});
  }
  return out;
}

}  // namespace

Result<EarnPlan> plan_earn(Store& store, const Program& program, const MemberRow& member,
                           std::size_t tier_index, std::int64_t amount_minor, TimePoint occurred_at,
                           TimePoint first_purchase_at, bool purchase_already_recorded) {
  EarnPlan plan;
  auto campaign = campaign_multiplier(program, local_date(occurred_at, program.zone));
  plan.tier_multiplier_bp = program.tiers[tier_index].multiplier_bp;
  plan.campaign_multiplier_bp = campaign.multiplier_bp;
  plan.campaign_id = campaign.promotion_id;
  auto base = earned_points(program.earn, amount_minor, 10'000, 10'000);
  auto earn = earned_points(program.earn, amount_minor, plan.tier_multiplier_bp,
                            plan.campaign_multiplier_bp);
  if (!base || !earn) {
    return make_error(ErrorCode::invalid_request, "amount_minor",
                      "is too large: the points earned would exceed 2^53-1");
  }
  plan.base_points = *base;
  plan.earn_points = *earn;
  plan.bonuses = nth_purchase_bonuses(store, program, member, occurred_at, first_purchase_at,
                                      purchase_already_recorded);
  return plan;
}

}  // namespace encore
