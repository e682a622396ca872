#include <catch2/catch.hpp>

#include "ledger/verify.h"
#include "tests/ledger/ledger_fixture.h"

using namespace encore;
using namespace encore::test;

TEST_CASE("a purchase earns floor points, a redemption spends them, verify passes", "[ledger]") {
  LedgerFixture f;
  f.enrol("m1");
  auto p = f.buy("m1", "o1", 1999);
  REQUIRE(p);
  CHECK(p->points_earned == 19);
  CHECK(p->balance.balance == 19);
  CHECK(p->balance.available == 19);
  auto r = f.redeem("m1", 10);
  REQUIRE(r);
  CHECK(r->balance.available == 9);
  auto too_much = f.redeem("m1", 10);
  REQUIRE_FALSE(too_much);
  CHECK(too_much.error().code == ErrorCode::insufficient_points);
  CHECK(f.buy("m1", "o1", 500).error().code == ErrorCode::order_already_posted);
  auto report = verify_ledger(f.path);
  CHECK(report.ok);
  CHECK(report.first_mismatch.empty());
  CHECK(report.entries_checked == 2);
}

// Regression: a pooled read connection kept its first snapshot (a cached statement left on a row
// outlived COMMIT), so reads after a read never saw later writes.
TEST_CASE("a read after a read sees the writes in between", "[ledger]") {
  LedgerFixture f;
  f.enrol("m1");
  CHECK(f.balance("m1").balance == 0);
  auto p = f.buy("m1", "o1", 1999);
  REQUIRE(p);
  auto page = f.ledger->entries("m1", std::nullopt, 5);
  REQUIRE(page);
  CHECK(page->entries.size() == 1);
  auto page2 = f.ledger->entries("m1", std::nullopt, 5);
  CHECK(page2->entries.size() == 1);
  CHECK(f.balance("m1").balance == 19);
}
