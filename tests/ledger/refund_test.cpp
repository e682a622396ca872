// Refunds (SPEC 4): proportional reversal, cumulative floors, bonuses, debt and clamp.
#include <catch2/catch.hpp>

#include "ledger/verify.h"
#include "tests/ledger/ledger_fixture.h"

using namespace encore;
using namespace encore::test;

namespace {

void check_verified(const LedgerFixture& f) {
  auto report = verify_ledger(f.path);
  INFO(report.first_mismatch);
  CHECK(report.ok);
}

nlohmann::json second_purchase_bonus() {
  return {{"promotions",
           {{{"id", "second-visit"},
             {"kind", "nth_purchase_bonus"},
             {"n", 2},
             {"within_days", 30},
             {"bonus_points", 200}}}}};
}

}  // namespace

TEST_CASE("a refund reverses points proportional to the refunded share, floored", "[refund]") {
  LedgerFixture f;
  f.enrol("m1");
  auto p = f.buy("m1", "o1", 10000);  // 100 points
  REQUIRE(p);
  auto r = f.refund("o1", "r1", 2550);  // floor(100 × 2550 / 10000) = 25
  REQUIRE(r);
  CHECK(r->points_reversed == 25);
  CHECK(r->member_id == "m1");
  REQUIRE(r->entries.size() == 1);
  const auto& e = r->entries[0];
  CHECK(e.kind == EntryKind::reverse);
  CHECK(e.points == -25);
  CHECK(e.order_id == "o1");
  CHECK(e.refund_id == "r1");
  CHECK(e.ref_entry_id == p->entries[0].id);
  REQUIRE(e.lots.size() == 1);
  CHECK(e.lots[0].points == 25);
  CHECK(r->balance.balance == 75);
  CHECK(r->balance.available == 75);
  check_verified(f);
}

TEST_CASE("partial refunds are floored cumulatively and sum exactly to the points earned",
          "[refund]") {
  LedgerFixture f;
  f.enrol("m1");
  auto p = f.buy("m1", "o1", 33334);  // 333 points
  REQUIRE(p);
  REQUIRE(p->points_earned == 333);
  // Floored one by one the thirds would give 110 + 110 + 111 = 331; cumulative floors give
  // 110, 111, 112.
  auto r1 = f.refund("o1", "r1", 11111);
  auto r2 = f.refund("o1", "r2", 11111);
  auto r3 = f.refund("o1", "r3", 11112);
  REQUIRE(r1);
  REQUIRE(r2);
  REQUIRE(r3);
  CHECK(r1->points_reversed == 110);
  CHECK(r2->points_reversed == 111);
  CHECK(r3->points_reversed == 112);
  CHECK(r1->points_reversed + r2->points_reversed + r3->points_reversed == 333);
  CHECK(f.balance("m1").balance == 0);
  check_verified(f);
}

TEST_CASE("uneven partial refunds also sum exactly to the points earned", "[refund]") {
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));  // 100 points
  Points total = 0;
  for (auto [id, amount] : {std::pair{"r1", 3333}, {"r2", 3333}, {"r3", 3334}}) {
    auto r = f.refund("o1", id, amount);
    REQUIRE(r);
    total += r->points_reversed;
  }
  CHECK(total == 100);
  CHECK(f.balance("m1").balance == 0);
  check_verified(f);
}

TEST_CASE("a refund beyond what remains of the purchase is refused", "[refund]") {
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));
  auto too_big = f.refund("o1", "r1", 10001);
  REQUIRE_FALSE(too_big);
  CHECK(too_big.error().code == ErrorCode::refund_exceeds_purchase);
  REQUIRE(f.refund("o1", "r2", 6000));
  auto rest_too_big = f.refund("o1", "r3", 4001);
  REQUIRE_FALSE(rest_too_big);
  CHECK(rest_too_big.error().code == ErrorCode::refund_exceeds_purchase);
  REQUIRE(f.refund("o1", "r4", 4000));
  CHECK(f.refund("o1", "r5", 1).error().code == ErrorCode::refund_exceeds_purchase);
  CHECK(f.balance("m1").balance == 0);
  check_verified(f);
}

TEST_CASE("a refund of an unknown order is not_found", "[refund]") {
  LedgerFixture f;
  auto r = f.refund("nope", "r1", 100);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::not_found);
  CHECK(r.error().field == "order_id");
}

TEST_CASE("a duplicate refund_id is refused and reverses nothing more", "[refund]") {
  // Documented choice (docs/api.md): a reused refund_id gets order_already_posted.
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));
  REQUIRE(f.buy("m1", "o2", 10000));
  REQUIRE(f.refund("o1", "r1", 1000));
  auto again = f.refund("o1", "r1", 1000);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::order_already_posted);
  CHECK(again.error().field == "refund_id");
  auto other_order = f.refund("o2", "r1", 1000);
  REQUIRE_FALSE(other_order);
  CHECK(other_order.error().code == ErrorCode::order_already_posted);
  CHECK(f.balance("m1").balance == 190);
  check_verified(f);
}

TEST_CASE("a full refund also reverses the bonus the purchase triggered", "[refund]") {
  LedgerFixture f(make_program(second_purchase_bonus()));
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 1000));       // 10
  auto second = f.buy("m1", "o2", 2000);  // 20 + 200 bonus
  REQUIRE(second);
  REQUIRE(second->bonus_points == 200);
  // A partial refund reverses only the earn share.
  auto partial = f.refund("o2", "r1", 1000);
  REQUIRE(partial);
  CHECK(partial->points_reversed == 10);
  CHECK(f.balance("m1").balance == 220);
  auto rest = f.refund("o2", "r2", 1000);
  REQUIRE(rest);
  CHECK(rest->points_reversed == 210);
  REQUIRE(rest->entries.size() == 2);
  CHECK(rest->entries[0].points == -10);
  CHECK(rest->entries[1].kind == EntryKind::reverse);
  CHECK(rest->entries[1].points == -200);
  CHECK(rest->entries[1].promotion_id == "second-visit");
  CHECK(rest->entries[1].ref_entry_id == second->entries[1].id);
  CHECK(f.balance("m1").balance == 10);
  check_verified(f);
}

TEST_CASE("a full refund takes back every bonus of the purchase, each from its own lot",
          "[refund]") {
  LedgerFixture f(make_program(two_second_purchase_bonuses()));
  auto [first, second] = f.first_and_second_purchase("m1");
  REQUIRE(second.entries.size() == 3);
  const auto& bonus_a = second.entries[1];
  const auto& bonus_b = second.entries[2];
  auto refund = f.refund("o2", "r1", 2000);
  REQUIRE(refund);
  CHECK(refund->points_reversed == 270);
  // One reverse entry per bonus, naming its promotion and entry, drawn from that bonus's own lot
  // (never from the first purchase's lot, which must stay whole with its own expiry).
  REQUIRE(refund->entries.size() == 3);
  for (std::size_t i = 1; i < 3; ++i) {
    const auto& bonus = second.entries[i];
    const auto& reverse = refund->entries[i];
    CHECK(reverse.kind == EntryKind::reverse);
    CHECK(reverse.points == -bonus.points);
    CHECK(reverse.promotion_id == bonus.promotion_id);
    CHECK(reverse.ref_entry_id == bonus.id);
    REQUIRE(reverse.lots.size() == 1);
    CHECK(reverse.lots[0].lot_id == bonus.id);
    CHECK(reverse.lots[0].points == bonus.points);
  }
  CHECK(bonus_a.promotion_id == "second-visit");
  CHECK(bonus_b.promotion_id == "second-visit-extra");
  // What is left is exactly the first purchase's lot.
  auto spent = f.redeem("m1", 10);
  REQUIRE(spent);
  REQUIRE(spent->entries[0].lots.size() == 1);
  CHECK(spent->entries[0].lots[0].lot_id == first.entries[0].id);
  CHECK(spent->balance.balance == 0);
  check_verified(f);
}

TEST_CASE("under clamp, a full refund takes back every still-pending bonus of the purchase",
          "[refund]") {
  auto doc = two_second_purchase_bonuses();
  doc["refund_shortfall"] = "clamp";
  doc["pending_days"] = 14;
  LedgerFixture f(make_program(doc));
  auto second = f.first_and_second_purchase("m1").second;  // all pending
  REQUIRE(second.bonus_points == 250);
  // Nothing is available yet: the clamp may only take the purchase's own pending points, and all
  // of its lots are its own, the second bonus's included.
  SECTION("a full refund") {
    auto refund = f.refund("o2", "r1", 2000);
    REQUIRE(refund);
    CHECK(refund->points_reversed == 270);
  }
  SECTION("a bonus reversed first, then a full refund") {
    REQUIRE(f.reverse(second.entries[1].id, "promotion misconfigured"));
    auto refund = f.refund("o2", "r1", 2000);
    REQUIRE(refund);
    CHECK(refund->points_reversed == 70);
  }
  auto b = f.balance("m1");
  CHECK(b.balance == 10);
  CHECK(b.pending == 10);
  CHECK(b.debt == 0);
  check_verified(f);
}

TEST_CASE("refund after redemption leaves debt under the debt policy", "[refund]") {
  LedgerFixture f;  // refund_shortfall defaults to "debt"
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));  // 100
  REQUIRE(f.redeem("m1", 80));
  auto r = f.refund("o1", "r1", 10000);
  REQUIRE(r);
  CHECK(r->points_reversed == 100);
  REQUIRE(r->entries.size() == 1);
  CHECK(r->entries[0].points == -100);
  auto b = f.balance("m1");
  CHECK(b.balance == -80);
  CHECK(b.debt == 80);
  CHECK(b.available == -80);
  CHECK(f.redeem("m1", 1).error().code == ErrorCode::insufficient_points);
  check_verified(f);
}

TEST_CASE("later earnings pay a refund debt off first", "[refund]") {
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));
  REQUIRE(f.redeem("m1", 100));
  REQUIRE(f.refund("o1", "r1", 10000));
  REQUIRE(f.balance("m1").debt == 100);
  auto small = f.buy("m1", "o2", 6000);  // 60: all of it pays debt
  REQUIRE(small);
  CHECK(small->balance.debt == 40);
  CHECK(small->balance.balance == -40);
  CHECK(small->balance.available == -40);
  auto big = f.buy("m1", "o3", 10000);  // 100: 40 pays the rest of the debt
  REQUIRE(big);
  CHECK(big->balance.debt == 0);
  CHECK(big->balance.balance == 60);
  CHECK(big->balance.available == 60);
  REQUIRE(f.redeem("m1", 60));
  CHECK(f.redeem("m1", 1).error().code == ErrorCode::insufficient_points);
  check_verified(f);
}

TEST_CASE("refund under clamp never takes available below zero", "[refund]") {
  LedgerFixture f(make_program({{"refund_shortfall", "clamp"}}));
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));  // 100
  REQUIRE(f.buy("m1", "o2", 5000));   // 50
  REQUIRE(f.redeem("m1", 120));       // 30 left
  auto r = f.refund("o1", "r1", 10000);
  REQUIRE(r);
  CHECK(r->points_reversed == 30);
  auto b = f.balance("m1");
  CHECK(b.balance == 0);
  CHECK(b.available == 0);
  CHECK(b.debt == 0);
  // Nothing left to take: a further refund reverses nothing and still never goes negative.
  auto r2 = f.refund("o2", "r2", 5000);
  REQUIRE(r2);
  CHECK(r2->points_reversed == 0);
  CHECK(f.balance("m1").balance == 0);
  CHECK(f.balance("m1").debt == 0);
  check_verified(f);
}

TEST_CASE("refund under clamp never reverses into held points", "[refund]") {
  LedgerFixture f(make_program({{"refund_shortfall", "clamp"}}));
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));  // 100
  REQUIRE(f.buy("m1", "o2", 10000));  // 100
  auto h = f.hold("m1", 150);
  REQUIRE(h);
  auto r = f.refund("o1", "r1", 10000);
  REQUIRE(r);
  CHECK(r->points_reversed == 50);
  auto b = f.balance("m1");
  CHECK(b.balance == 150);
  CHECK(b.held == 150);
  CHECK(b.available == 0);
  CHECK(b.debt == 0);
  auto c = f.capture(h->hold->hold_id);
  REQUIRE(c);
  CHECK(c->balance.balance == 0);
  check_verified(f);
}

TEST_CASE("refund under debt takes points from the purchase's own lot first", "[refund]") {
  LedgerFixture f;
  f.enrol("m1");
  auto o1 = f.buy("m1", "o1", 10000);
  REQUIRE(o1);
  REQUIRE(f.redeem("m1", 10));  // an entry that creates no lot: entry and lot ids diverge
  auto o2 = f.buy("m1", "o2", 10000);
  REQUIRE(o2);
  auto r = f.refund("o2", "r1", 5000);
  REQUIRE(r);
  REQUIRE(r->entries[0].lots.size() == 1);
  // Lots are identified by the id of the entry that created them (docs/openapi.yaml LotDraw).
  CHECK(r->entries[0].lots[0].lot_id == o2->entries[0].id);
  CHECK(r->entries[0].lots[0].points == 50);
  check_verified(f);
}
