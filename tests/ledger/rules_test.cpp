// Pure rule arithmetic (ledger/rules.h): earn formula, proportional floors, tiers, campaigns.
#include <catch2/catch.hpp>

#include "ledger/rules.h"
#include "tests/ledger/ledger_fixture.h"

using namespace encore;
using namespace encore::test;

namespace {

constexpr std::int64_t max53 = (std::int64_t{1} << 53) - 1;

TimePoint at(const char* text) {
  return parse_rfc3339(text).value();
}
Date day(const char* text) {
  return parse_date(text).value();
}

Program tiered_program() {
  return make_program({{"tiers",
                        {{{"name", "base"}, {"threshold", 0}, {"multiplier_bp", 10000}},
                         {{"name", "silver"}, {"threshold", 1000}, {"multiplier_bp", 12500}},
                         {{"name", "gold"}, {"threshold", 5000}, {"multiplier_bp", 15000}}}},
                       {"tier_hold_days", 365}});
}

}  // namespace

TEST_CASE("earned points are floored: 1999 minor units earn 19 points", "[rules]") {
  EarnRule earn{1, 100};
  CHECK(earned_points(earn, 1999, 10000, 10000) == 19);
  CHECK(earned_points(earn, 99, 10000, 10000) == 0);
  CHECK(earned_points(earn, 100, 10000, 10000) == 1);
  CHECK(earned_points(EarnRule{3, 250}, 1000, 10000, 10000) == 12);
}

TEST_CASE("tier and campaign multipliers are applied in one product floored once", "[rules]") {
  EarnRule earn{1, 100};
  // 1999 × 1.25 × 2 / 100 = 49.975 → 49. Flooring per step would give 46 or 48.
  CHECK(earned_points(earn, 1999, 12500, 20000) == 49);
  CHECK(earned_points(earn, 1999, 20000, 12500) == 49);
  // 1 × 1.5 × 1.5 / 1 = 2.25 → 2; per-step floor(floor(1.5) × 1.5) would give 1.
  CHECK(earned_points(EarnRule{1, 1}, 1, 15000, 15000) == 2);
}

TEST_CASE("the earn product does not overflow at amount 2^53-1 with big multipliers", "[rules]") {
  // The intermediate product is ~9e27, far beyond 64 bits; the result fits.
  CHECK(earned_points(EarnRule{1, 1'000'000'000}, max53, 1'000'000, 1'000'000) == 90'071'992'547);
  // Exactly 2^53-1 is still representable.
  CHECK(earned_points(EarnRule{1, 1}, max53, 10000, 10000) == max53);
}

TEST_CASE("the earn formula returns nullopt when the result exceeds 2^53-1", "[rules]") {
  CHECK_FALSE(earned_points(EarnRule{1, 1}, max53, 20000, 10000).has_value());
  CHECK_FALSE(earned_points(EarnRule{1, 1}, max53, 10000, 10001).has_value());
  CHECK_FALSE(earned_points(EarnRule{1'000'000, 1}, max53, 1'000'000, 1'000'000).has_value());
}

TEST_CASE("proportional_floor floors the exact share without overflow", "[rules]") {
  CHECK(proportional_floor(333, 1, 3) == 111);
  CHECK(proportional_floor(333, 2, 3) == 222);
  CHECK(proportional_floor(333, 3, 3) == 333);
  CHECK(proportional_floor(100, 1, 3) == 33);
  CHECK(proportional_floor(100, 2, 3) == 66);
  CHECK(proportional_floor(100, 0, 3) == 0);
  // total × numerator ~ 2^106: needs the 128-bit intermediate.
  CHECK(proportional_floor(max53, max53 - 1, max53) == max53 - 1);
  CHECK(proportional_floor(max53, max53, max53) == max53);
}

TEST_CASE("evaluate_tier upgrades at once, possibly by several tiers", "[rules]") {
  auto program = tiered_program();
  auto reached = at("2026-01-01T00:00:00Z");
  auto now = at("2026-01-02T00:00:00Z");
  auto to_silver = evaluate_tier(program, 0, reached, 1000, now);
  CHECK(to_silver.changed);
  CHECK(to_silver.tier_index == 1);
  CHECK(to_silver.reason == "upgrade");
  auto to_gold = evaluate_tier(program, 0, reached, 6000, now);
  CHECK(to_gold.changed);
  CHECK(to_gold.tier_index == 2);
  auto stay = evaluate_tier(program, 0, reached, 999, now);
  CHECK_FALSE(stay.changed);
  CHECK(stay.tier_index == 0);
}

TEST_CASE("evaluate_tier does not downgrade before the hold period ends", "[rules]") {
  auto program = tiered_program();
  auto reached = at("2026-01-01T00:00:00Z");
  auto before = reached + std::chrono::days{365} - std::chrono::seconds{1};
  auto d = evaluate_tier(program, 2, reached, 0, before);
  CHECK_FALSE(d.changed);
  CHECK(d.tier_index == 2);
}

TEST_CASE("evaluate_tier downgrades after the hold to the tier the points support", "[rules]") {
  auto program = tiered_program();
  auto reached = at("2026-01-01T00:00:00Z");
  auto after = reached + std::chrono::days{365};
  auto to_silver = evaluate_tier(program, 2, reached, 1500, after);
  CHECK(to_silver.changed);
  CHECK(to_silver.tier_index == 1);
  CHECK(to_silver.reason == "downgrade");
  auto to_base = evaluate_tier(program, 2, reached, 0, after);
  CHECK(to_base.changed);
  CHECK(to_base.tier_index == 0);
  auto kept = evaluate_tier(program, 1, reached, 1000, after);
  CHECK_FALSE(kept.changed);
  CHECK(kept.tier_index == 1);
}

TEST_CASE("supported_tier picks the highest threshold reached", "[rules]") {
  auto program = tiered_program();
  CHECK(supported_tier(program, 0) == 0);
  CHECK(supported_tier(program, 999) == 0);
  CHECK(supported_tier(program, 1000) == 1);
  CHECK(supported_tier(program, 4999) == 1);
  CHECK(supported_tier(program, 5000) == 2);
}

TEST_CASE("campaign_multiplier uses inclusive dates and the max of overlapping campaigns",
          "[rules]") {
  auto program = make_program({{"promotions",
                                {{{"id", "a"},
                                  {"kind", "multiplier"},
                                  {"from", "2026-03-01"},
                                  {"to", "2026-03-10"},
                                  {"multiplier_bp", 15000}},
                                 {{"id", "b"},
                                  {"kind", "multiplier"},
                                  {"from", "2026-03-05"},
                                  {"to", "2026-03-20"},
                                  {"multiplier_bp", 20000}},
                                 {{"id", "c"},
                                  {"kind", "multiplier"},
                                  {"from", "2026-03-05"},
                                  {"to", "2026-03-06"},
                                  {"multiplier_bp", 12000}}}}});
  auto none = campaign_multiplier(program, day("2026-02-28"));
  CHECK(none.multiplier_bp == 10000);
  CHECK_FALSE(none.promotion_id.has_value());
  auto first_day = campaign_multiplier(program, day("2026-03-01"));
  CHECK(first_day.multiplier_bp == 15000);
  CHECK(first_day.promotion_id == "a");
  auto overlap = campaign_multiplier(program, day("2026-03-05"));
  CHECK(overlap.multiplier_bp == 20000);
  CHECK(overlap.promotion_id == "b");
  auto a_last_day = campaign_multiplier(program, day("2026-03-10"));
  CHECK(a_last_day.promotion_id == "b");
  auto b_last_day = campaign_multiplier(program, day("2026-03-20"));
  CHECK(b_last_day.multiplier_bp == 20000);
  CHECK(b_last_day.promotion_id == "b");
  auto after = campaign_multiplier(program, day("2026-03-21"));
  CHECK(after.multiplier_bp == 10000);
  CHECK_FALSE(after.promotion_id.has_value());
}

TEST_CASE("fixed_term_expiry is the end of the local day N days after the purchase", "[rules]") {
  auto program = make_program(
      {{"timezone", "Asia/Shanghai"}, {"expiry", {{"policy", "fixed_term"}, {"days", 30}}}});
  // 2026-01-10T20:00 in Shanghai → end of local 2026-02-09 = 2026-02-09T16:00:00Z.
  CHECK(fixed_term_expiry(program, at("2026-01-10T12:00:00Z")) == at("2026-02-09T16:00:00Z"));
  // 2026-01-10T17:00Z is already local 2026-01-11.
  CHECK(fixed_term_expiry(program, at("2026-01-10T17:00:00Z")) == at("2026-02-10T16:00:00Z"));
  CHECK_FALSE(fixed_term_expiry(make_program(), at("2026-01-10T12:00:00Z")).has_value());
}
