// Admin corrections (SPEC 2, 4): adjustments, entry reversals, and the append-only,
// hash-chained `entries` table.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include <filesystem>

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

TEST_CASE("a negative adjustment beyond available is refused with insufficient_points",
          "[corrections]") {
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));
  REQUIRE(f.hold("m1", 30));
  auto too_much = f.adjust("m1", -71, "goodwill correction");
  REQUIRE_FALSE(too_much);
  CHECK(too_much.error().code == ErrorCode::insufficient_points);
  auto ok = f.adjust("m1", -70, "goodwill correction");
  REQUIRE(ok);
  REQUIRE(ok->entries.size() == 1);
  CHECK(ok->entries[0].kind == EntryKind::adjust);
  CHECK(ok->entries[0].points == -70);
  CHECK(ok->entries[0].reason == "goodwill correction");
  CHECK(ok->entries[0].actor == "admin:test");
  CHECK(ok->balance.available == 0);
  CHECK(ok->balance.balance == 30);
  auto plus = f.adjust("m1", 5, "compensation");
  REQUIRE(plus);
  CHECK(plus->balance.available == 5);
  check_verified(f);
}

TEST_CASE("an adjustment or a reversal without a reason is refused naming the field",
          "[corrections]") {
  LedgerFixture f;
  f.enrol("m1");
  auto p = f.buy("m1", "o1", 10000);
  REQUIRE(p);
  auto a = f.adjust("m1", 10, "");
  REQUIRE_FALSE(a);
  CHECK(a.error().code == ErrorCode::invalid_request);
  CHECK(a.error().field == "reason");
  auto r = f.reverse(p->entries[0].id, "");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::invalid_request);
  CHECK(r.error().field == "reason");
  CHECK(f.entries("m1").size() == 1);
}

TEST_CASE("reversing a redeem restores the points into the same lots with their expiry",
          "[corrections]") {
  LedgerFixture f(make_program({{"expiry", {{"policy", "fixed_term"}, {"days", 30}}}}));
  f.enrol("m1");
  auto o1 = f.buy("m1", "o1", 1000);  // 10, expires end of 2026-02-09
  REQUIRE(o1);
  f.clock.advance(std::chrono::days{5});
  auto o2 = f.buy("m1", "o2", 2000);  // 20, expires end of 2026-02-14
  REQUIRE(o2);
  auto spent = f.redeem("m1", 15);
  REQUIRE(spent);
  const auto& redeem = spent->entries[0];
  REQUIRE(redeem.lots.size() == 2);
  f.clock.advance(std::chrono::days{1});
  auto r = f.reverse(redeem.id, "till error");
  REQUIRE(r);
  REQUIRE(r->entries.size() == 1);
  const auto& restore = r->entries[0];
  CHECK(restore.kind == EntryKind::restore);
  CHECK(restore.points == 15);
  CHECK(restore.ref_entry_id == redeem.id);
  CHECK(restore.reason == "till error");
  CHECK(restore.lots == redeem.lots);
  auto b = r->balance;
  CHECK(b.balance == 30);
  CHECK(b.available == 30);
  REQUIRE(b.expiring.size() == 2);
  CHECK(format_date(b.expiring[0].date) == "2026-02-09");
  CHECK(b.expiring[0].points == 10);
  CHECK(format_date(b.expiring[1].date) == "2026-02-14");
  CHECK(b.expiring[1].points == 20);
  // The restored points of the first lot still expire on the first lot's date.
  f.clock.set(at("2026-02-10T00:00:00Z"));
  CHECK(f.balance("m1").available == 20);
  check_verified(f);
}

TEST_CASE("reversing an earn entry takes the purchase's points back", "[corrections]") {
  LedgerFixture f;
  f.enrol("m1");
  auto p = f.buy("m1", "o1", 10000);
  REQUIRE(p);
  auto r = f.reverse(p->entries[0].id, "fraudulent order");
  REQUIRE(r);
  REQUIRE(r->entries.size() == 1);
  CHECK(r->entries[0].kind == EntryKind::reverse);
  CHECK(r->entries[0].points == -100);
  CHECK(r->entries[0].ref_entry_id == p->entries[0].id);
  CHECK(r->entries[0].order_id == "o1");
  CHECK(r->balance.balance == 0);
  CHECK(r->balance.qualifying_points == 0);
  // The order's points are gone: a later refund takes nothing more.
  auto refund = f.refund("o1", "r1", 10000);
  REQUIRE(refund);
  CHECK(refund->points_reversed == 0);
  CHECK(f.balance("m1").balance == 0);
  check_verified(f);
}

TEST_CASE("partial refunds after an earn reversal never take the points back twice",
          "[corrections]") {
  LedgerFixture f;
  f.enrol("m1");
  auto p = f.buy("m1", "o1", 10000);  // 100
  REQUIRE(p);
  REQUIRE(f.buy("m1", "o2", 10000));  // 100 more, so a double take would not hit zero
  REQUIRE(f.reverse(p->entries[0].id, "fraudulent order"));
  auto r1 = f.refund("o1", "r1", 5000);
  REQUIRE(r1);
  CHECK(r1->points_reversed == 0);
  auto r2 = f.refund("o1", "r2", 5000);
  REQUIRE(r2);
  CHECK(r2->points_reversed == 0);
  auto b = f.balance("m1");
  CHECK(b.balance == 100);
  CHECK(b.qualifying_points == 100);
  check_verified(f);
}

TEST_CASE("with two bonuses on one purchase, each is taken back once and only its own points",
          "[corrections]") {
  LedgerFixture f(make_program(two_second_purchase_bonuses()));
  auto second = f.first_and_second_purchase("m1").second;
  REQUIRE(second.bonus_points == 250);
  REQUIRE(second.entries.size() == 3);
  const auto& first_bonus = second.entries[1];
  const auto& second_bonus = second.entries[2];
  REQUIRE(first_bonus.kind == EntryKind::bonus);
  REQUIRE(second_bonus.kind == EntryKind::bonus);
  REQUIRE(first_bonus.points + second_bonus.points == 250);
  CHECK(f.balance("m1").balance == 280);

  // Reverse one bonus, then refund the whole purchase: the reversal takes back that bonus's own
  // points, and the refund the earn and the other bonus only.
  auto reverse_then_refund = [&](const Entry& reversed, const Entry& other) {
    REQUIRE(f.reverse(reversed.id, "promotion misconfigured"));
    CHECK(f.balance("m1").balance == 280 - reversed.points);
    auto refund = f.refund("o2", "r1", 2000);
    REQUIRE(refund);
    CHECK(refund->points_reversed == 20 + other.points);
  };
  SECTION("reversing the first bonus takes back its points, not both bonuses") {
    reverse_then_refund(first_bonus, second_bonus);
  }
  SECTION("reversing the second bonus, then a full refund, never takes it back twice") {
    reverse_then_refund(second_bonus, first_bonus);
  }
  SECTION("after a full refund, reversing a bonus is refused: nothing is left to take back") {
    auto refund = f.refund("o2", "r1", 2000);
    REQUIRE(refund);
    CHECK(refund->points_reversed == 270);
    auto r = f.reverse(second_bonus.id, "promotion misconfigured");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::already_reversed);
  }
  // Every section ends with the member back at the first purchase's points.
  auto b = f.balance("m1");
  CHECK(b.balance == 10);
  CHECK(b.debt == 0);
  check_verified(f);
}

TEST_CASE("a full refund never takes twice a bonus reversed before reversals were counted",
          "[corrections]") {
  LedgerFixture f(make_program(two_second_purchase_bonuses()));
  auto second = f.first_and_second_purchase("m1").second;
  const auto& second_bonus = second.entries[2];
  REQUIRE(f.reverse(second_bonus.id, "promotion misconfigured"));
  {
    // Before 638823d a reversal of the second bonus was not counted in bonus_reversed: such rows
    // exist in older databases.
    SQLite::Database db(f.path, SQLite::OPEN_READWRITE);
    REQUIRE(db.exec("UPDATE orders SET bonus_reversed = 0 WHERE order_id = 'o2'") == 1);
  }
  auto refund = f.refund("o2", "r1", 2000);
  REQUIRE(refund);
  CHECK(refund->points_reversed == 20 + 200);
  REQUIRE(refund->entries.size() == 2);
  CHECK(refund->entries[1].ref_entry_id == second.entries[1].id);
  auto b = f.balance("m1");
  CHECK(b.balance == 10);
  CHECK(b.debt == 0);
  check_verified(f);
}

TEST_CASE("reversing an earn whose points were spent is refused under clamp", "[corrections]") {
  LedgerFixture f(make_program({{"refund_shortfall", "clamp"}}));
  f.enrol("m1");
  auto p = f.buy("m1", "o1", 10000);
  REQUIRE(p);
  REQUIRE(f.redeem("m1", 100));
  auto r = f.reverse(p->entries[0].id, "fraudulent order");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::insufficient_points);
  CHECK(f.entries("m1").size() == 2);
  check_verified(f);
}

TEST_CASE("reversing an adjustment posts the opposite adjustment", "[corrections]") {
  LedgerFixture f;
  f.enrol("m1");
  auto plus = f.adjust("m1", 50, "goodwill");
  REQUIRE(plus);
  auto undo = f.reverse(plus->entries[0].id, "posted twice");
  REQUIRE(undo);
  CHECK(undo->entries[0].kind == EntryKind::adjust);
  CHECK(undo->entries[0].points == -50);
  CHECK(undo->balance.balance == 0);
  REQUIRE(f.buy("m1", "o1", 10000));
  auto minus = f.adjust("m1", -40, "correction");
  REQUIRE(minus);
  auto undo_minus = f.reverse(minus->entries[0].id, "wrong member");
  REQUIRE(undo_minus);
  CHECK(undo_minus->entries[0].points == 40);
  CHECK(undo_minus->entries[0].lots == minus->entries[0].lots);
  CHECK(undo_minus->balance.balance == 100);
  check_verified(f);
}

TEST_CASE("an entry can be reversed only once", "[corrections]") {
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));
  auto spent = f.redeem("m1", 10);
  REQUIRE(spent);
  REQUIRE(f.reverse(spent->entries[0].id, "till error"));
  auto twice = f.reverse(spent->entries[0].id, "till error");
  REQUIRE_FALSE(twice);
  CHECK(twice.error().code == ErrorCode::already_reversed);
  CHECK(f.balance("m1").balance == 100);
  check_verified(f);
}

TEST_CASE("expire, reverse and restore entries are not reversible", "[corrections]") {
  LedgerFixture f(make_program({{"expiry", {{"policy", "fixed_term"}, {"days", 10}}}}));
  f.enrol("m1");
  auto p = f.buy("m1", "o1", 10000);
  REQUIRE(p);
  auto refund = f.refund("o1", "r1", 1000);
  REQUIRE(refund);
  auto spent = f.redeem("m1", 10);
  REQUIRE(spent);
  auto restored = f.reverse(spent->entries[0].id, "till error");
  REQUIRE(restored);
  f.clock.advance(std::chrono::days{20});
  auto run = f.run_expiry(f.clock.now());
  REQUIRE(run);
  REQUIRE(run->entries == 1);
  auto expire_id = f.entries("m1").front().id;
  REQUIRE(f.entries("m1").front().kind == EntryKind::expire);
  for (auto id : {refund->entries[0].id, restored->entries[0].id, expire_id}) {
    auto r = f.reverse(id, "try");
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::not_reversible);
  }
  auto missing = f.reverse(9999, "try");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::not_found);
  check_verified(f);
}

TEST_CASE("the entries table refuses UPDATE and DELETE", "[corrections]") {
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));
  SQLite::Database db(f.path, SQLite::OPEN_READWRITE);
  CHECK_THROWS_WITH(db.exec("UPDATE entries SET points = 1000 WHERE id = 1"),
                    Catch::Contains("append-only"));
  CHECK_THROWS_WITH(db.exec("DELETE FROM entries WHERE id = 1"), Catch::Contains("append-only"));
  CHECK_THROWS(db.exec("DELETE FROM entries"));
  SQLite::Statement points(db, "SELECT points FROM entries WHERE id = 1");
  REQUIRE(points.executeStep());
  CHECK(points.getColumn(0).getInt64() == 100);
  check_verified(f);
}

TEST_CASE("verify reports the id of a tampered entry", "[corrections]") {
  LedgerFixture f;
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));
  auto spent = f.redeem("m1", 10);
  REQUIRE(spent);
  REQUIRE(f.buy("m1", "o2", 5000));
  const auto tampered_id = spent->entries[0].id;
  REQUIRE(tampered_id == 2);
  auto copy = (std::filesystem::path(f.path).parent_path() / "copy.db").string();
  {
    SQLite::Database db(f.path, SQLite::OPEN_READWRITE);
    db.exec("VACUUM INTO '" + copy + "'");
  }
  REQUIRE(verify_ledger(copy).ok);
  {
    SQLite::Database db(copy, SQLite::OPEN_READWRITE);
    db.exec("DROP TRIGGER entries_append_only_update");
    db.exec("UPDATE entries SET points = -1 WHERE id = " + std::to_string(tampered_id));
  }
  auto report = verify_ledger(copy);
  CHECK_FALSE(report.ok);
  CHECK_THAT(report.first_mismatch, Catch::StartsWith("entry 2:"));
  // The original is untouched.
  check_verified(f);
}
