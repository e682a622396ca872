// Purchases (SPEC 3, 4): tiers, campaigns, nth-purchase bonuses and the purchase refusals.
#include <catch2/catch.hpp>

#include "ledger/verify.h"
#include "tests/ledger/ledger_fixture.h"

using namespace encore;
using namespace encore::test;

namespace {

nlohmann::json two_tiers() {
  return {{"tiers",
           {{{"name", "base"}, {"threshold", 0}, {"multiplier_bp", 10000}},
            {{"name", "silver"}, {"threshold", 1000}, {"multiplier_bp", 12500}}}}};
}

nlohmann::json second_purchase_bonus() {
  return {{"promotions",
           {{{"id", "second-visit"},
             {"kind", "nth_purchase_bonus"},
             {"n", 2},
             {"within_days", 30},
             {"bonus_points", 200}}}}};
}

void check_verified(const LedgerFixture& f) {
  auto report = verify_ledger(f.path);
  INFO(report.first_mismatch);
  CHECK(report.ok);
}

Points sum_points(const std::vector<Entry>& entries, EntryKind kind) {
  Points total = 0;
  for (const auto& e : entries) {
    if (e.kind == kind) total += e.points;
  }
  return total;
}

}  // namespace

TEST_CASE("a purchase earns at the tier it started in and the upgrade applies from the next",
          "[earning]") {
  LedgerFixture f(make_program(two_tiers()));
  f.enrol("m1");
  auto crossing = f.buy("m1", "o1", 150000);  // 1500 base points: crosses silver's 1000
  REQUIRE(crossing);
  CHECK(crossing->points_earned == 1500);  // earned at base (1x), not silver
  CHECK(crossing->tier == "silver");
  CHECK(crossing->balance.tier == "silver");
  auto next = f.buy("m1", "o2", 10000);
  REQUIRE(next);
  CHECK(next->points_earned == 125);  // 100 × 1.25
  CHECK(f.balance("m1").balance == 1625);
  // Qualifying points are counted before the multiplier.
  CHECK(f.balance("m1").qualifying_points == 1600);
  check_verified(f);
}

TEST_CASE("tier history records the enrolment and the upgrade", "[earning]") {
  LedgerFixture f(make_program(two_tiers()));
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 150000));
  auto history = f.ledger->tier_history("m1");
  REQUIRE(history);
  REQUIRE(history->size() == 2);
  CHECK_FALSE((*history)[0].from_tier.has_value());
  CHECK((*history)[0].to_tier == "base");
  CHECK((*history)[0].reason == "enrolled");
  CHECK((*history)[1].from_tier == "base");
  CHECK((*history)[1].to_tier == "silver");
  CHECK((*history)[1].reason == "upgrade");
  CHECK((*history)[1].qualifying_points == 1500);
  CHECK((*history)[1].changed_at == f.clock.now());
}

TEST_CASE("a multiplier campaign applies by local date in the program's time zone", "[earning]") {
  auto program = make_program({{"timezone", "Asia/Shanghai"},
                               {"promotions",
                                {{{"id", "double"},
                                  {"kind", "multiplier"},
                                  {"from", "2026-01-11"},
                                  {"to", "2026-01-11"},
                                  {"multiplier_bp", 20000}}}}});
  LedgerFixture f(std::move(program), "2026-01-20T00:00:00Z");
  f.enrol("m1");
  // 2026-01-10T15:59:59Z is 23:59:59 on Jan 10 in Shanghai: before the campaign.
  auto before = f.buy_at("m1", "o1", 1000, at("2026-01-10T15:59:59Z"));
  REQUIRE(before);
  CHECK(before->points_earned == 10);
  // 2026-01-10T16:00:00Z is already Jan 11 in Shanghai (but still Jan 10 in UTC).
  auto first = f.buy_at("m1", "o2", 1000, at("2026-01-10T16:00:00Z"));
  REQUIRE(first);
  CHECK(first->points_earned == 20);
  REQUIRE(first->entries.size() == 1);
  CHECK(first->entries[0].promotion_id == "double");
  auto last = f.buy_at("m1", "o3", 1000, at("2026-01-11T15:59:59Z"));
  REQUIRE(last);
  CHECK(last->points_earned == 20);
  // 2026-01-11T16:00:00Z is Jan 12 in Shanghai: after the campaign although UTC says Jan 11.
  auto after = f.buy_at("m1", "o4", 1000, at("2026-01-11T16:00:00Z"));
  REQUIRE(after);
  CHECK(after->points_earned == 10);
  CHECK_FALSE(after->entries[0].promotion_id.has_value());
  check_verified(f);
}

TEST_CASE("nth_purchase_bonus fires once on the 2nd purchase within within_days", "[earning]") {
  LedgerFixture f(make_program(second_purchase_bonus()));
  f.enrol("m1");
  auto first = f.buy("m1", "o1", 1000);
  REQUIRE(first);
  CHECK(first->bonus_points == 0);
  f.clock.advance(std::chrono::days{30});  // the window's last instant (inclusive)
  auto second = f.buy("m1", "o2", 2000);
  REQUIRE(second);
  CHECK(second->points_earned == 20);
  CHECK(second->bonus_points == 200);
  REQUIRE(second->entries.size() == 2);
  CHECK(second->entries[1].kind == EntryKind::bonus);
  CHECK(second->entries[1].points == 200);
  CHECK(second->entries[1].promotion_id == "second-visit");
  CHECK(second->entries[1].order_id == "o2");
  CHECK(second->balance.balance == 230);
  auto third = f.buy("m1", "o3", 1000);
  REQUIRE(third);
  CHECK(third->bonus_points == 0);
  CHECK(sum_points(f.entries("m1"), EntryKind::bonus) == 200);
  check_verified(f);
}

TEST_CASE("nth_purchase_bonus does not fire outside the window", "[earning]") {
  LedgerFixture f(make_program(second_purchase_bonus()));
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 1000));
  f.clock.advance(std::chrono::days{30} + std::chrono::seconds{1});
  auto late = f.buy("m1", "o2", 1000);
  REQUIRE(late);
  CHECK(late->bonus_points == 0);
  auto later = f.buy("m1", "o3", 1000);
  REQUIRE(later);
  CHECK(later->bonus_points == 0);
  CHECK(sum_points(f.entries("m1"), EntryKind::bonus) == 0);
  CHECK(f.balance("m1").balance == 30);
  check_verified(f);
}

TEST_CASE("a 0-point purchase posts no entry but counts for the bonus", "[earning]") {
  LedgerFixture f(make_program(second_purchase_bonus()));
  f.enrol("m1");
  auto zero = f.buy("m1", "o1", 99);  // floor(0.99) = 0 points
  REQUIRE(zero);
  CHECK(zero->points_earned == 0);
  CHECK(zero->entries.empty());
  CHECK(f.entries("m1").empty());
  // It is recorded: the same order cannot be posted again.
  CHECK(f.buy("m1", "o1", 5000).error().code == ErrorCode::order_already_posted);
  f.clock.advance(std::chrono::days{3});
  auto second = f.buy("m1", "o2", 1000);
  REQUIRE(second);
  CHECK(second->points_earned == 10);
  CHECK(second->bonus_points == 200);
  CHECK(f.balance("m1").balance == 210);
  check_verified(f);
}

TEST_CASE("a purchase in another currency is refused with currency_mismatch", "[earning]") {
  LedgerFixture f;
  f.enrol("m1");
  PurchaseRequest req{"m1", "o1", 1000, "USD"};
  auto r = f.ledger->write([&](Writer& w) { return w.purchase(req, f.actor); });
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::currency_mismatch);
  CHECK(r.error().field == "currency");
  CHECK(f.entries("m1").empty());
  // The refused order left no trace: it can be posted in the right currency.
  REQUIRE(f.buy("m1", "o1", 1000));
}

TEST_CASE("a duplicate order_id is refused with order_already_posted", "[earning]") {
  LedgerFixture f;
  f.enrol("m1");
  f.enrol("m2");
  REQUIRE(f.buy("m1", "o1", 1000));
  auto again = f.buy("m1", "o1", 1000);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::order_already_posted);
  auto other_member = f.buy("m2", "o1", 1000);
  REQUIRE_FALSE(other_member);
  CHECK(other_member.error().code == ErrorCode::order_already_posted);
  CHECK(f.balance("m1").balance == 10);
  CHECK(f.balance("m2").balance == 0);
  check_verified(f);
}

TEST_CASE("a purchase for an unknown member is refused with not_found", "[earning]") {
  LedgerFixture f;
  auto r = f.buy("nobody", "o1", 1000);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::not_found);
  CHECK(r.error().field == "member_id");
}

TEST_CASE("a purchase occurring in the future is refused with invalid_request", "[earning]") {
  // Design choice (writer_orders.cpp): up to 5 minutes of till clock skew is tolerated.
  LedgerFixture f;
  f.enrol("m1");
  auto r = f.buy_at("m1", "o1", 1000, f.clock.now() + std::chrono::hours{1});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::invalid_request);
  CHECK(r.error().field == "occurred_at");
  auto skewed = f.buy_at("m1", "o2", 1000, f.clock.now() + std::chrono::minutes{6});
  REQUIRE_FALSE(skewed);
  CHECK(skewed.error().code == ErrorCode::invalid_request);
  CHECK(f.entries("m1").empty());
  // A late (offline) purchase is accepted and dated when it happened.
  auto late = f.buy_at("m1", "o3", 1000, f.clock.now() - std::chrono::hours{48});
  REQUIRE(late);
  CHECK(late->entries[0].occurred_at == f.clock.now() - std::chrono::hours{48});
}

TEST_CASE("a reached tier is held for tier_hold_days, then falls to the supported tier",
          "[earning]") {
  auto overrides = two_tiers();
  overrides["tier_window_days"] = 30;
  overrides["tier_hold_days"] = 60;
  LedgerFixture f(make_program(overrides));
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 150000));
  CHECK(f.balance("m1").tier == "silver");
  f.clock.advance(std::chrono::days{59});  // outside the window: 0 qualifying, still held
  auto held = f.balance("m1");
  CHECK(held.qualifying_points == 0);
  CHECK(held.tier == "silver");
  f.clock.advance(std::chrono::days{1});
  CHECK(f.balance("m1").tier == "base");
  auto next = f.buy("m1", "o2", 10000);
  REQUIRE(next);
  CHECK(next->points_earned == 100);  // base multiplier again
  auto history = f.ledger->tier_history("m1");
  REQUIRE(history);
  REQUIRE(history->size() == 3);
  CHECK((*history)[2].from_tier == "silver");
  CHECK((*history)[2].to_tier == "base");
  CHECK((*history)[2].reason == "downgrade");
  check_verified(f);
}

TEST_CASE("a tier recompute in pieces visits every member once, in id order", "[earning]") {
  // The server runs `tiers recompute` as one write operation per piece (api/routes_admin.cpp),
  // so tills' writes go in between; the pieces together must do what one pass would.
  auto overrides = two_tiers();
  overrides["tier_window_days"] = 30;
  overrides["tier_hold_days"] = 60;
  LedgerFixture f(make_program(overrides));
  const std::vector<std::string> ids = {"a1", "a2", "b1", "b2", "c1"};
  for (const auto& id : ids) f.enrol(id);
  REQUIRE(f.buy("a1", "o1", 150000));      // silver
  REQUIRE(f.buy("b2", "o2", 150000));      // silver
  REQUIRE(f.buy("c1", "o3", 150000));      // silver
  f.clock.advance(std::chrono::days{61});  // every hold is over: silver falls to base

  std::vector<std::int64_t> members_per_piece;
  std::int64_t changed = 0;
  std::string after;
  for (;;) {
    auto piece = f.ledger->write([&](Writer& w) { return w.recompute_tiers(after, 2); });
    REQUIRE(piece);
    members_per_piece.push_back(piece->members);
    changed += piece->changed;
    if (piece->members < 2) break;
    after = piece->last_member_id;
  }
  CHECK(members_per_piece == std::vector<std::int64_t>{2, 2, 1});
  CHECK(after == "b2");
  CHECK(changed == 3);
  for (const auto& id : ids) {
    auto history = f.ledger->tier_history(id);
    REQUIRE(history);
    const bool was_silver = id == "a1" || id == "b2" || id == "c1";
    CHECK(history->size() == (was_silver ? 3u : 1u));  // enrol, silver, base: each change once
  }
  // Nothing is left to change.
  auto again = f.ledger->write([&](Writer& w) { return w.recompute_tiers("", 10); });
  REQUIRE(again);
  CHECK(again->members == 5);
  CHECK(again->changed == 0);
  check_verified(f);
}
