// Expiry (SPEC 2, 3): fixed-term lots in the program's time zone, inactivity, expiry runs and
// soonest-expiring-first redemption.
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

Program fixed_term(int days, const std::string& zone = "UTC") {
  return make_program({{"timezone", zone}, {"expiry", {{"policy", "fixed_term"}, {"days", days}}}});
}

std::vector<Entry> of_kind(const std::vector<Entry>& entries, EntryKind kind) {
  std::vector<Entry> out;
  for (const auto& e : entries) {
    if (e.kind == kind) out.push_back(e);
  }
  return out;
}

}  // namespace

TEST_CASE("a fixed_term lot expires at the end of the local day N days after the purchase",
          "[expiry]") {
  // Purchase at 2026-01-10T12:00Z = 20:00 in Shanghai; 30 days later is local 2026-02-09,
  // which ends at 2026-02-09T16:00:00Z.
  LedgerFixture f(fixed_term(30, "Asia/Shanghai"));
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 1000));
  auto b = f.balance("m1");
  REQUIRE(b.expiring.size() == 1);
  CHECK(format_date(b.expiring[0].date) == "2026-02-09");
  CHECK(b.expiring[0].points == 10);
  f.clock.set(at("2026-02-09T15:59:59Z"));  // 23:59:59 local: still spendable
  CHECK(f.balance("m1").available == 10);
  REQUIRE(f.redeem("m1", 4));
  f.clock.set(at("2026-02-09T16:00:00Z"));  // local midnight: gone
  b = f.balance("m1");
  CHECK(b.balance == 0);
  CHECK(b.available == 0);
  CHECK(b.expiring.empty());
  auto r = f.redeem("m1", 1);
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::insufficient_points);
  check_verified(f);
}

TEST_CASE("expired points are never spendable, even before the expiry run", "[expiry]") {
  LedgerFixture f(fixed_term(10));
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 1000));
  f.clock.advance(std::chrono::days{12});
  // No expiry run and no write yet: reads already show the points gone.
  auto b = f.balance("m1");
  CHECK(b.balance == 0);
  CHECK(b.available == 0);
  CHECK(f.ledger->member("m1")->balance == 0);
  CHECK(f.redeem("m1", 1).error().code == ErrorCode::insufficient_points);
  CHECK(f.hold("m1", 1).error().code == ErrorCode::insufficient_points);
  CHECK(f.adjust("m1", -1, "test").error().code == ErrorCode::insufficient_points);
  check_verified(f);
}

TEST_CASE("run_expiry posts expire entries drawing the expired lots", "[expiry]") {
  LedgerFixture f(fixed_term(10));
  f.enrol("m1");
  f.enrol("m2");
  auto o1 = f.buy("m1", "o1", 1000);  // 10, expires end of 2026-01-20 UTC
  REQUIRE(o1);
  auto o3 = f.buy("m2", "o3", 3000);  // 30, same day
  REQUIRE(o3);
  f.clock.advance(std::chrono::days{5});
  auto o2 = f.buy("m1", "o2", 2000);  // 20, expires end of 2026-01-25
  REQUIRE(o2);
  auto spent = f.redeem("m1", 4);  // from o1's lot, the soonest to expire
  REQUIRE(spent);
  REQUIRE(spent->entries[0].lots.size() == 1);
  CHECK(spent->entries[0].lots[0].lot_id == o1->entries[0].id);
  f.clock.set(at("2026-01-22T00:00:00Z"));
  auto result = f.run_expiry(f.clock.now());
  REQUIRE(result);
  CHECK(result->members == 2);
  CHECK(result->entries == 2);
  CHECK(result->points == 36);
  auto expired = of_kind(f.entries("m1"), EntryKind::expire);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].points == -6);
  CHECK(expired[0].occurred_at == at("2026-01-21T00:00:00Z"));
  REQUIRE(expired[0].lots.size() == 1);
  CHECK(expired[0].lots[0] == LotDraw{o1->entries[0].id, 6});
  auto expired2 = of_kind(f.entries("m2"), EntryKind::expire);
  REQUIRE(expired2.size() == 1);
  CHECK(expired2[0].points == -30);
  CHECK(f.balance("m1").balance == 20);
  CHECK(f.balance("m2").balance == 0);
  // A second run finds nothing more.
  auto again = f.run_expiry(f.clock.now());
  REQUIRE(again);
  CHECK(again->entries == 0);
  check_verified(f);
}

TEST_CASE("a dry-run expiry reports what would expire and writes nothing", "[expiry]") {
  LedgerFixture f(fixed_term(10));
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 1000));
  f.clock.advance(std::chrono::days{20});
  auto dry = f.run_expiry(f.clock.now(), true);
  REQUIRE(dry);
  CHECK(dry->entries == 1);
  CHECK(dry->points == 10);
  REQUIRE(f.entries("m1").size() == 1);  // only the earn entry
  CHECK(verify_ledger(f.path).entries_checked == 1);
  auto real = f.run_expiry(f.clock.now());
  REQUIRE(real);
  CHECK(real->entries == 1);
  CHECK(f.entries("m1").size() == 2);
  check_verified(f);
}

TEST_CASE("an expiry run with as_of in the future is capped at now", "[expiry]") {
  LedgerFixture f(fixed_term(10));
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 1000));
  auto r = f.run_expiry(f.clock.now() + std::chrono::days{400});
  REQUIRE(r);
  CHECK(r->entries == 0);
  CHECK(r->points == 0);
  CHECK(f.entries("m1").size() == 1);
  CHECK(f.balance("m1").available == 10);
  // An as_of in the past expires only what had expired by then.
  f.clock.advance(std::chrono::days{30});
  REQUIRE(f.buy("m1", "o2", 500));  // lot o1 expires here as part of loading the member
  REQUIRE(f.buy("m1", "o3", 700));
  auto past = f.run_expiry(f.clock.now() - std::chrono::days{5});
  REQUIRE(past);
  CHECK(past->entries == 0);
  CHECK(f.balance("m1").balance == 12);
  check_verified(f);
}

TEST_CASE("inactivity expiry takes the whole balance N days after the last purchase", "[expiry]") {
  LedgerFixture f(make_program({{"expiry", {{"policy", "inactivity"}, {"days", 90}}}}));
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 1000));
  f.clock.advance(std::chrono::days{10});
  REQUIRE(f.buy("m1", "o2", 2000));
  // Deadline: end of (2026-01-20 + 90 days) = 2026-04-21T00:00:00Z.
  auto b = f.balance("m1");
  REQUIRE(b.expiring.size() == 1);
  CHECK(format_date(b.expiring[0].date) == "2026-04-20");
  CHECK(b.expiring[0].points == 30);
  f.clock.set(at("2026-04-20T23:59:59Z"));
  CHECK(f.balance("m1").available == 30);
  f.clock.set(at("2026-04-21T00:00:00Z"));
  CHECK(f.balance("m1").available == 0);
  CHECK(f.balance("m1").balance == 0);
  auto run = f.run_expiry(f.clock.now());
  REQUIRE(run);
  CHECK(run->entries == 1);
  CHECK(run->points == 30);
  auto expired = of_kind(f.entries("m1"), EntryKind::expire);
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].lots.size() == 2);
  check_verified(f);
}

TEST_CASE("a redemption extends the inactivity deadline", "[expiry]") {
  LedgerFixture f(make_program({{"expiry", {{"policy", "inactivity"}, {"days", 90}}}}));
  f.enrol("m1");
  REQUIRE(f.buy("m1", "o1", 10000));  // 100 on 2026-01-10
  f.clock.set(at("2026-03-01T09:00:00Z"));
  REQUIRE(f.redeem("m1", 10));
  // Without the redemption this would be past the deadline (end of 2026-04-10).
  f.clock.set(at("2026-05-30T23:59:59Z"));
  CHECK(f.balance("m1").available == 90);
  REQUIRE(f.run_expiry(f.clock.now())->entries == 0);
  f.clock.set(at("2026-05-31T00:00:00Z"));  // end of 2026-03-01 + 90 days
  CHECK(f.balance("m1").available == 0);
  auto run = f.run_expiry(f.clock.now());
  REQUIRE(run);
  CHECK(run->points == 90);
  check_verified(f);
}

TEST_CASE("redemptions consume the soonest-expiring lots first", "[expiry]") {
  LedgerFixture f(fixed_term(365));
  f.enrol("m1");
  auto recent = f.buy("m1", "o1", 1000);  // 10, expires 2027-01-10
  REQUIRE(recent);
  // Posted later (an offline till) but bought 100 days ago: it expires first.
  auto older = f.buy_at("m1", "o2", 2000, f.clock.now() - std::chrono::days{100});
  REQUIRE(older);
  auto also_recent = f.buy("m1", "o3", 500);  // 5, same expiry as o1, higher id
  REQUIRE(also_recent);
  auto r = f.redeem("m1", 33);
  REQUIRE(r);
  const auto& lots = r->entries[0].lots;
  REQUIRE(lots.size() == 3);
  CHECK(lots[0] == LotDraw{older->entries[0].id, 20});
  CHECK(lots[1] == LotDraw{recent->entries[0].id, 10});
  CHECK(lots[2] == LotDraw{also_recent->entries[0].id, 3});
  // The entries read shows the draws too.
  auto read = f.entries("m1");
  REQUIRE(read.front().kind == EntryKind::redeem);
  CHECK(read.front().lots == lots);
  CHECK(f.balance("m1").available == 2);
  check_verified(f);
}

TEST_CASE("balance lists the next three expiry dates with their points", "[expiry]") {
  LedgerFixture f(fixed_term(30));
  f.enrol("m1");
  for (int i = 0; i < 4; ++i) {
    REQUIRE(f.buy("m1", "o" + std::to_string(i), 1000 * (i + 1)));
    REQUIRE(f.buy("m1", "x" + std::to_string(i), 100));
    f.clock.advance(std::chrono::days{1});
  }
  auto b = f.balance("m1");
  REQUIRE(b.expiring.size() == 3);
  CHECK(format_date(b.expiring[0].date) == "2026-02-09");
  CHECK(b.expiring[0].points == 11);
  CHECK(format_date(b.expiring[1].date) == "2026-02-10");
  CHECK(b.expiring[1].points == 21);
  CHECK(format_date(b.expiring[2].date) == "2026-02-11");
  CHECK(b.expiring[2].points == 31);
  REQUIRE(f.redeem("m1", 11));  // spends the first date entirely
  b = f.balance("m1");
  REQUIRE(b.expiring.size() == 3);
  CHECK(format_date(b.expiring[0].date) == "2026-02-10");
  CHECK(format_date(b.expiring[2].date) == "2026-02-12");
  CHECK(b.expiring[2].points == 41);
}

TEST_CASE("inactivity counts from enrolment for a member who never purchased", "[expiry]") {
  // Documented choice (member_state.cpp lot_expiry): without a purchase or redemption the
  // inactivity clock starts at enrolment. The expiry run must agree with the reads.
  LedgerFixture f(make_program({{"expiry", {{"policy", "inactivity"}, {"days", 30}}}}));
  f.enrol("m1");
  REQUIRE(f.adjust("m1", 50, "welcome gift"));
  f.clock.advance(std::chrono::days{31});
  CHECK(f.balance("m1").balance == 0);
  auto run = f.run_expiry(f.clock.now());
  REQUIRE(run);
  CHECK(run->entries == 1);
  CHECK(run->points == 50);
  REQUIRE(f.entries("m1").front().kind == EntryKind::expire);
  check_verified(f);
}

TEST_CASE("an expiry run in pieces expires what one run would, each member once", "[expiry]") {
  // The server commits an expiry run in pieces (api/routes_admin.cpp): the candidates are found
  // once, then each piece expires the next few of them in its own write operation.
  LedgerFixture f(fixed_term(10));
  const std::vector<std::string> ids = {"m1", "m2", "m3", "m4", "m5"};
  int order = 0;
  for (const auto& id : ids) {
    f.enrol(id);
    ++order;
    REQUIRE(f.buy(id, "o" + std::to_string(order), 1000 * order));  // 10, 20, ... 50 points
  }
  f.clock.advance(std::chrono::days{20});
  REQUIRE(f.buy("m3", "o-late", 1000));  // not expired yet: stays

  std::vector<std::string> candidates;
  f.ledger->write_batch([&](Writer& w) { candidates = w.expiry_candidates(f.clock.now()); });
  // m3's purchase just now expired its old lot on the way (lazy expiry): no longer a candidate.
  CHECK(candidates == std::vector<std::string>{"m1", "m2", "m4", "m5"});

  ExpiryRunResult total;
  for (std::size_t i = 0; i < candidates.size(); i += 3) {
    const std::vector<std::string> piece(
        candidates.begin() + static_cast<std::ptrdiff_t>(i),
        candidates.begin() + static_cast<std::ptrdiff_t>(std::min(candidates.size(), i + 3)));
    auto r = f.ledger->write(
        [&](Writer& w) { return w.expire_members(piece, f.clock.now(), false, f.admin); });
    REQUIRE(r);
    total.members += r->members;
    total.entries += r->entries;
    total.points += r->points;
  }
  CHECK(total.members == 4);
  CHECK(total.entries == 4);
  CHECK(total.points == 10 + 20 + 40 + 50);
  for (const auto& id : ids) {
    CAPTURE(id);
    CHECK(f.balance(id).balance == (id == "m3" ? 10 : 0));
  }
  // A piece repeated (a run cut short and started again) expires nothing twice.
  auto repeat = f.ledger->write(
      [&](Writer& w) { return w.expire_members(candidates, f.clock.now(), false, f.admin); });
  REQUIRE(repeat);
  CHECK(repeat->entries == 0);
  check_verified(f);
}
