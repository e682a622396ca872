// Pending points (SPEC 3 pending_days) and two-phase holds (SPEC 4, 5).
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

}  // namespace

TEST_CASE("earned points stay pending until pending_days pass, then become available",
          "[pending]") {
  LedgerFixture f(make_program({{"pending_days", 14}}));
  f.enrol("m1");
  auto p = f.buy("m1", "o1", 10000);
  REQUIRE(p);
  CHECK(p->balance.balance == 100);
  CHECK(p->balance.pending == 100);
  CHECK(p->balance.available == 0);
  CHECK(f.redeem("m1", 1).error().code == ErrorCode::insufficient_points);
  CHECK(f.hold("m1", 1).error().code == ErrorCode::insufficient_points);
  f.clock.advance(std::chrono::days{14} - std::chrono::seconds{1});
  CHECK(f.balance("m1").pending == 100);
  CHECK(f.redeem("m1", 1).error().code == ErrorCode::insufficient_points);
  f.clock.advance(std::chrono::seconds{1});
  auto b = f.balance("m1");
  CHECK(b.pending == 0);
  CHECK(b.available == 100);
  auto r = f.redeem("m1", 100);
  REQUIRE(r);
  CHECK(r->balance.balance == 0);
  check_verified(f);
}

TEST_CASE("a hold reserves points: available drops and held rises", "[holds]") {
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));
  auto h = f.hold("m1", 30);
  REQUIRE(h);
  REQUIRE(h->hold);
  CHECK(h->hold->state == HoldState::open);
  CHECK(h->hold->expires_at == f.clock.now() + std::chrono::seconds{default_hold_ttl_seconds});
  CHECK(h->entries.empty());  // a hold posts no entry
  auto b = f.balance("m1");
  CHECK(b.balance == 100);
  CHECK(b.held == 30);
  CHECK(b.available == 70);
  // Held points are not available to anything else.
  CHECK(f.redeem("m1", 71).error().code == ErrorCode::insufficient_points);
  CHECK(f.hold("m1", 71).error().code == ErrorCode::insufficient_points);
  REQUIRE(f.redeem("m1", 70));
  check_verified(f);
}

TEST_CASE("a hold cannot exceed the available points", "[holds]") {
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));
  auto too_big = f.hold("m1", 101);
  REQUIRE_FALSE(too_big);
  CHECK(too_big.error().code == ErrorCode::insufficient_points);
  CHECK(f.balance("m1").held == 0);
  REQUIRE(f.hold("m1", 100));
  CHECK(f.balance("m1").available == 0);
}

TEST_CASE("a full capture posts a redeem entry and closes the hold", "[holds]") {
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));
  auto h = f.hold("m1", 40);
  REQUIRE(h);
  auto c = f.capture(h->hold->hold_id);
  REQUIRE(c);
  REQUIRE(c->entries.size() == 1);
  CHECK(c->entries[0].kind == EntryKind::redeem);
  CHECK(c->entries[0].points == -40);
  CHECK(c->entries[0].hold_id == h->hold->hold_id);
  CHECK(c->hold->state == HoldState::captured);
  CHECK(c->hold->captured_points == 40);
  CHECK(c->balance.balance == 60);
  CHECK(c->balance.held == 0);
  CHECK(c->balance.available == 60);
  auto again = f.capture(h->hold->hold_id);
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::hold_not_open);
  CHECK(f.release(h->hold->hold_id).error().code == ErrorCode::hold_not_open);
  check_verified(f);
}

TEST_CASE("a partial capture spends part and releases the rest at once", "[holds]") {
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));
  auto h = f.hold("m1", 40);
  REQUIRE(h);
  auto c = f.capture(h->hold->hold_id, 25);
  REQUIRE(c);
  CHECK(c->entries[0].points == -25);
  CHECK(c->hold->captured_points == 25);
  CHECK(c->balance.held == 0);
  CHECK(c->balance.available == 75);
  CHECK(f.ledger->hold(h->hold->hold_id)->state == HoldState::captured);
  auto second = f.capture(h->hold->hold_id, 15);
  REQUIRE_FALSE(second);
  CHECK(second.error().code == ErrorCode::hold_not_open);
  CHECK(f.balance("m1").balance == 75);
  check_verified(f);
}

TEST_CASE("a release frees the held points and posts nothing", "[holds]") {
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));
  auto h = f.hold("m1", 40);
  REQUIRE(h);
  auto r = f.release(h->hold->hold_id);
  REQUIRE(r);
  CHECK(r->entries.empty());
  CHECK(r->hold->state == HoldState::released);
  CHECK(r->balance.held == 0);
  CHECK(r->balance.available == 100);
  CHECK(f.capture(h->hold->hold_id).error().code == ErrorCode::hold_not_open);
  CHECK(f.release(h->hold->hold_id).error().code == ErrorCode::hold_not_open);
  CHECK(f.entries("m1").size() == 1);
  check_verified(f);
}

TEST_CASE("an uncaptured hold expires after its ttl", "[holds]") {
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));
  auto h = f.hold("m1", 40, 60);
  REQUIRE(h);
  f.clock.advance(std::chrono::seconds{59});
  CHECK(f.balance("m1").held == 40);
  f.clock.advance(std::chrono::seconds{1});
  auto b = f.balance("m1");
  CHECK(b.held == 0);
  CHECK(b.available == 100);
  auto c = f.capture(h->hold->hold_id);
  REQUIRE_FALSE(c);
  CHECK(c.error().code == ErrorCode::hold_not_open);
  CHECK(f.ledger->hold(h->hold->hold_id)->state == HoldState::expired);
  CHECK(f.release(h->hold->hold_id).error().code == ErrorCode::hold_not_open);
  CHECK(f.balance("m1").balance == 100);
  check_verified(f);
}

TEST_CASE("an expiry run closes stale holds", "[holds]") {
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));
  auto h = f.hold("m1", 40, 60);
  REQUIRE(h);
  f.clock.advance(std::chrono::minutes{5});
  REQUIRE(f.run_expiry(f.clock.now()));
  CHECK(f.ledger->hold(h->hold->hold_id)->state == HoldState::expired);
}

TEST_CASE("capturing more than is held is refused with insufficient_points", "[holds]") {
  // Documented choice (docs/api.md): a capture of more than is held gets insufficient_points.
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));
  auto h = f.hold("m1", 40);
  REQUIRE(h);
  auto c = f.capture(h->hold->hold_id, 41);
  REQUIRE_FALSE(c);
  CHECK(c.error().code == ErrorCode::insufficient_points);
  // The refusal left the hold open.
  CHECK(f.ledger->hold(h->hold->hold_id)->state == HoldState::open);
  CHECK(f.balance("m1").held == 40);
  REQUIRE(f.capture(h->hold->hold_id, 40));
  check_verified(f);
}

TEST_CASE("a hold on an unknown member or an unknown hold id is not_found", "[holds]") {
  LedgerFixture f;
  CHECK(f.hold("nobody", 1).error().code == ErrorCode::not_found);
  CHECK(f.capture("hold_missing").error().code == ErrorCode::not_found);
  CHECK(f.release("hold_missing").error().code == ErrorCode::not_found);
}
