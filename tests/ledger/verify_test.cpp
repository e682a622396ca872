#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "ledger/verify.h"
#include "tests/ledger/ledger_fixture.h"

using namespace encore;
using namespace encore::test;

TEST_CASE("verify reports a tampered entry, balance or lot", "[ledger][verify]") {
  LedgerFixture f;
  f.enrol("m1");
  f.enrol("m2");
  REQUIRE(f.buy("m1", "o1", 1999));
  REQUIRE(f.buy("m2", "o2", 5000));
  REQUIRE(f.redeem("m2", 10));
  auto ok = verify_ledger(f.path);
  REQUIRE(ok.ok);
  CHECK(ok.entries_checked == 3);
  CHECK(ok.members_checked == 2);

  SQLite::Database db(f.path, SQLite::OPEN_READWRITE);
  SECTION("a stored balance") {
    db.exec("UPDATE members SET balance = balance + 1 WHERE member_id = 'm2'");
    auto r = verify_ledger(f.path);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.first_mismatch, Catch::Contains("member m2: stored balance 41"));
  }
  SECTION("a lot") {
    db.exec("UPDATE lots SET remaining = remaining - 1 WHERE member_id = 'm1'");
    auto r = verify_ledger(f.path);
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.first_mismatch, Catch::Contains("member m1: lots hold 18"));
  }
  SECTION("an entry") {
    db.exec("DROP TRIGGER entries_append_only_update");
    db.exec("UPDATE entries SET points = 20 WHERE id = 1");
    auto r = verify_ledger(f.path);
    CHECK_FALSE(r.ok);
    CHECK(r.first_mismatch == "entry 1: hash does not match the chain");
  }
}
