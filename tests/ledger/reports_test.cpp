// The reports of SPEC 8 (ledger/reports.h, docs/reports.md): liability, repeat purchase, RFM.
#include <catch2/catch.hpp>

#include "ledger/reports.h"
#include "tests/ledger/ledger_fixture.h"

using namespace encore;
using namespace encore::test;

namespace {

LiabilityReport liability(LedgerFixture& fx, int months = default_report_months) {
  LiabilityReport r;
  fx.ledger->with_reader(
      [&](Store& s) { r = liability_report(s, fx.ledger->program(), fx.clock.now(), months); });
  return r;
}

RepeatPurchaseReport repeat_purchase(LedgerFixture& fx) {
  RepeatPurchaseReport r;
  fx.ledger->with_reader(
      [&](Store& s) { r = repeat_purchase_report(s, fx.ledger->program(), fx.clock.now()); });
  return r;
}

RfmReport rfm(LedgerFixture& fx) {
  RfmReport r;
  fx.ledger->with_reader([&](Store& s) { r = rfm_report(s, fx.clock.now()); });
  return r;
}

// The report's sums must be the sums of what each member's balance route shows.
void require_matches_balances(LedgerFixture& fx, const LiabilityReport& r,
                              const std::vector<std::string>& members) {
  Points balance = 0, available = 0, pending = 0, held = 0, debt = 0, outstanding = 0;
  for (const auto& m : members) {
    const auto v = fx.balance(m);
    balance += v.balance;
    available += std::max<Points>(0, v.available);
    pending += v.pending;
    held += v.held;
    debt += v.debt;
    outstanding += std::max<Points>(0, v.balance);
  }
  CHECK(r.members == static_cast<std::int64_t>(members.size()));
  CHECK(r.balance == balance);
  CHECK(r.available == available);
  CHECK(r.pending == pending);
  CHECK(r.held == held);
  CHECK(r.debt == debt);
  CHECK(r.outstanding == outstanding);
}

Program expiring_program(nlohmann::json extra = nlohmann::json::object()) {
  nlohmann::json doc = {{"expiry", {{"policy", "fixed_term"}, {"days", 365}}},
                        {"point_value_minor", 5}};
  doc.merge_patch(extra);
  return make_program(doc);
}

}  // namespace

TEST_CASE("liability sums what members see, with holds, pending points and debt",
          "[reports][liability]") {
  LedgerFixture fx(expiring_program({{"pending_days", 14}}), "2026-01-10T12:00:00Z");
  fx.enrol("a");
  fx.enrol("b");
  fx.enrol("c");
  fx.enrol("idle");
  // Earned 2025-12-20 and vested by now: spendable. 2026-01-10: pending for 14 days.
  REQUIRE(fx.buy_at("a", "a1", 10'000, at("2025-12-20T10:00:00Z")));
  REQUIRE(fx.buy("a", "a2", 3'000));
  REQUIRE(fx.buy_at("b", "b1", 5'000, at("2025-12-01T10:00:00Z")));
  REQUIRE(fx.hold("b", 20));
  // c: 40 points, spent 30, then the purchase is refunded in full: 10 points of debt.
  REQUIRE(fx.buy_at("c", "c1", 4'000, at("2025-12-01T10:00:00Z")));
  REQUIRE(fx.redeem("c", 30));
  REQUIRE(fx.refund("c1", "r1", 4'000));

  auto r = liability(fx);
  require_matches_balances(fx, r, {"a", "b", "c", "idle"});
  CHECK(r.pending == 30);
  CHECK(r.held == 20);
  CHECK(r.debt == 30);  // refund took back all 40; 10 were left in the lot
  CHECK(r.available == 100 + 50 - 20);
  CHECK(r.outstanding == 130 + 50);
  CHECK(r.balance == 130 + 50 - 30);
  // Money at 5 minor units per point.
  auto body = liability_report_json(r, fx.ledger->program());
  CHECK(body["outstanding"]["value_minor"] == 180 * 5);
  CHECK(body["currency"] == "EUR");
  CHECK(body["members"] == 4);
}

TEST_CASE("liability lists points by the month they expire, in the program's time zone",
          "[reports][liability][tz]") {
  LedgerFixture fx(expiring_program({{"timezone", "Asia/Shanghai"}}), "2026-04-01T12:00:00Z");
  fx.enrol("a");
  // 2026-01-31T16:30Z is 2026-02-01 00:30 in Shanghai (UTC+8): the lot expires at the end of
  // 2027-02-01 local, so in February 2027 (in UTC it would have been January).
  REQUIRE(fx.buy_at("a", "a1", 10'000, at("2026-01-31T16:30:00Z")));
  // Earned 2026-03-15 local: expires in March 2027.
  REQUIRE(fx.buy_at("a", "a2", 2'000, at("2026-03-15T04:00:00Z")));

  auto r12 = liability(fx, 12);
  REQUIRE(r12.expiring.size() == 12);
  CHECK(r12.expiring.front().month == "2026-04");
  CHECK(r12.expiring[9].month == "2027-01");
  CHECK(r12.expiring[9].points == 0);
  CHECK(r12.expiring[10].month == "2027-02");
  CHECK(r12.expiring[10].points == 100);
  CHECK(r12.expiring[11].month == "2027-03");
  CHECK(r12.expiring[11].points == 20);
  CHECK(r12.expiring_later == 0);
  CHECK(r12.no_expiry == 0);

  auto r10 = liability(fx, 10);
  REQUIRE(r10.expiring.size() == 10);
  CHECK(r10.expiring.back().month == "2027-01");
  Points listed = 0;
  for (const auto& m : r10.expiring) listed += m.points;
  CHECK(listed == 0);
  CHECK(r10.expiring_later == 120);

  CHECK_THROWS_AS(liability(fx, 0), std::invalid_argument);
  CHECK_THROWS_AS(liability(fx, max_report_months + 1), std::invalid_argument);
}

TEST_CASE("points without an expiry policy are listed apart", "[reports][liability]") {
  LedgerFixture fx(make_program(), "2026-04-01T12:00:00Z");
  fx.enrol("a");
  REQUIRE(fx.buy("a", "a1", 4'200));
  auto r = liability(fx);
  CHECK(r.no_expiry == 42);
  CHECK(r.expiring_later == 0);
  CHECK(r.outstanding == 42);
}

TEST_CASE("breakage counts expired points, posted or not yet, against what was earned",
          "[reports][liability]") {
  LedgerFixture fx(expiring_program(), "2026-01-10T12:00:00Z");
  fx.enrol("a");
  fx.enrol("b");
  REQUIRE(fx.buy_at("a", "a1", 30'000, at("2025-01-01T10:00:00Z")));  // 300, expires 2026-01-01
  REQUIRE(fx.buy("b", "b1", 60'000));                                 // 600
  REQUIRE(fx.buy("b", "b2", 10'000));                                 // 100
  REQUIRE(fx.refund("b2", "r1", 10'000));                             // 100 reversed

  // a's 300 are past expiry but not posted yet: gone from the balance, counted as breakage.
  auto before = liability(fx);
  require_matches_balances(fx, before, {"a", "b"});
  CHECK(before.earned == 1000);
  CHECK(before.reversed == 100);
  CHECK(before.expired_posted == 0);
  CHECK(before.expired_unposted == 300);
  REQUIRE(before.breakage_bp);
  CHECK(*before.breakage_bp == 3333);  // floor(300 * 10000 / 900)
  CHECK(before.outstanding == 600);

  REQUIRE(fx.run_expiry(fx.clock.now()));
  auto after = liability(fx);
  require_matches_balances(fx, after, {"a", "b"});
  CHECK(after.expired_posted == 300);
  CHECK(after.expired_unposted == 0);
  CHECK(after.breakage_bp == before.breakage_bp);
  CHECK(after.outstanding == 600);
  auto body = liability_report_json(after, fx.ledger->program());
  CHECK(body["history"]["expired_points"] == 300);
  CHECK(body["history"]["expired_value_minor"] == 1500);
}

TEST_CASE("liability of an empty ledger has no breakage", "[reports][liability]") {
  LedgerFixture fx(make_program());
  auto r = liability(fx);
  CHECK(r.members == 0);
  CHECK_FALSE(r.breakage_bp);
  CHECK(liability_report_json(r, fx.ledger->program())["history"]["breakage_bp"].is_null());
}

TEST_CASE("liability money beyond 64 bits is an exact decimal string", "[reports][liability]") {
  // 10^10 points at 10^9 minor units each: 10^19 > 2^63 - 1.
  LedgerFixture fx(make_program({{"point_value_minor", 1'000'000'000}}));
  fx.enrol("a");
  REQUIRE(fx.buy("a", "a1", 1'000'000'000'000));
  auto body = liability_report_json(liability(fx), fx.ledger->program());
  CHECK(body["outstanding"]["points"] == 10'000'000'000);
  CHECK(body["outstanding"]["value_minor"] == "10000000000000000000");
}

TEST_CASE("repeat purchase rate and median days by cohort of first purchase", "[reports][repeat]") {
  LedgerFixture fx(make_program(), "2026-06-01T12:00:00Z");
  for (const char* m : {"a", "b", "c", "d", "e"}) fx.enrol(m);
  // January cohort: a (second after 10 days), b (after 20 days), c (one purchase).
  REQUIRE(fx.buy_at("a", "a1", 1'000, at("2026-01-05T10:00:00Z")));
  REQUIRE(fx.buy_at("a", "a2", 1'000, at("2026-01-15T10:00:00Z")));
  REQUIRE(fx.buy_at("a", "a3", 1'000, at("2026-02-15T10:00:00Z")));
  REQUIRE(fx.buy_at("b", "b1", 1'000, at("2026-01-20T10:00:00Z")));
  REQUIRE(fx.buy_at("b", "b2", 1'000, at("2026-02-09T22:00:00Z")));  // 20.5 days
  REQUIRE(fx.buy_at("c", "c1", 1'000, at("2026-01-31T23:00:00Z")));
  // d's first purchase was refunded in full: its cohort is March, from its second purchase.
  REQUIRE(fx.buy_at("d", "d1", 1'000, at("2026-02-01T10:00:00Z")));
  REQUIRE(fx.refund("d1", "rd1", 1'000));
  REQUIRE(fx.buy_at("d", "d2", 1'000, at("2026-03-03T10:00:00Z")));
  // A partial refund still leaves a purchase.
  REQUIRE(fx.buy_at("d", "d3", 1'000, at("2026-03-04T10:00:00Z")));
  REQUIRE(fx.refund("d3", "rd3", 500));
  // e: enrolled, never bought.

  auto r = repeat_purchase(fx);
  CHECK(r.total.purchasers == 4);
  CHECK(r.total.repeat_purchasers == 3);
  CHECK(r.total.rate_bp == 7500);
  CHECK(r.total.median_days_to_second == 10);  // 1, 10, 20.5 days
  REQUIRE(r.cohorts.size() == 2);
  CHECK(r.cohorts[0].month == "2026-01");
  CHECK(r.cohorts[0].figures.purchasers == 3);
  CHECK(r.cohorts[0].figures.repeat_purchasers == 2);
  CHECK(r.cohorts[0].figures.rate_bp == 6666);
  CHECK(r.cohorts[0].figures.median_days_to_second == 15);  // mean of 10 and 20.5, floored
  CHECK(r.cohorts[1].month == "2026-03");
  CHECK(r.cohorts[1].figures.purchasers == 1);
  CHECK(r.cohorts[1].figures.median_days_to_second == 1);

  auto body = repeat_purchase_report_json(r, fx.ledger->program());
  CHECK(body["timezone"] == "UTC");
  CHECK(body["second_purchase_rate_bp"] == 7500);
  CHECK(body["cohorts"][0]["cohort"] == "2026-01");
}

TEST_CASE("repeat purchase cohorts follow the program's time zone", "[reports][repeat][tz]") {
  LedgerFixture fx(make_program({{"timezone", "Asia/Shanghai"}}), "2026-06-01T12:00:00Z");
  fx.enrol("a");
  // 2026-01-31T20:00Z is 2026-02-01 04:00 in Shanghai.
  REQUIRE(fx.buy_at("a", "a1", 1'000, at("2026-01-31T20:00:00Z")));
  auto r = repeat_purchase(fx);
  REQUIRE(r.cohorts.size() == 1);
  CHECK(r.cohorts[0].month == "2026-02");
  CHECK_FALSE(r.total.median_days_to_second);
  CHECK(r.total.rate_bp == 0);
}

TEST_CASE("RFM scores use mid-ranks and cover 1 to 5", "[reports][rfm]") {
  CHECK(rfm_score(0, 1, 1) == 3);  // a lone purchaser sits in the middle
  CHECK(rfm_score(0, 1, 5) == 1);
  CHECK(rfm_score(2, 1, 5) == 3);
  CHECK(rfm_score(4, 1, 5) == 5);
  CHECK(rfm_score(0, 60, 100) == 2);  // 60% tied at the bottom
  CHECK(rfm_score(60, 25, 100) == 4);
  CHECK(rfm_score(85, 15, 100) == 5);
  CHECK(rfm_score(0, 100, 100) == 3);  // all equal
}

TEST_CASE("RFM segments partition the recency x frequency grid", "[reports][rfm]") {
  CHECK(rfm_segment(5, 5) == RfmSegment::champions);
  CHECK(rfm_segment(4, 4) == RfmSegment::champions);
  CHECK(rfm_segment(5, 3) == RfmSegment::loyal);
  CHECK(rfm_segment(3, 5) == RfmSegment::loyal);
  CHECK(rfm_segment(5, 1) == RfmSegment::new_customers);
  CHECK(rfm_segment(4, 2) == RfmSegment::new_customers);
  CHECK(rfm_segment(2, 5) == RfmSegment::at_risk);
  CHECK(rfm_segment(1, 3) == RfmSegment::at_risk);
  CHECK(rfm_segment(2, 2) == RfmSegment::hibernating);
  CHECK(rfm_segment(1, 1) == RfmSegment::hibernating);
  CHECK(rfm_segment(3, 1) == RfmSegment::needs_attention);
  CHECK(rfm_segment(3, 2) == RfmSegment::needs_attention);
}

TEST_CASE("RFM report segments purchasers and counts the rest apart", "[reports][rfm]") {
  LedgerFixture fx(make_program(), "2026-06-01T12:00:00Z");
  for (const char* m : {"fresh", "newbie", "regular", "lapsed", "gone", "never"}) fx.enrol(m);
  // fresh: 4 purchases, last yesterday. newbie: 1, two days ago. regular: 3, last 10 days ago.
  for (int i = 0; i < 4; ++i) {
    REQUIRE(fx.buy_at("fresh", "f" + std::to_string(i), 2'000,
                      at("2026-05-" + std::to_string(28 + i) + "T10:00:00Z")));
  }
  REQUIRE(fx.buy_at("newbie", "n1", 1'000, at("2026-05-30T10:00:00Z")));
  REQUIRE(fx.buy_at("regular", "r1", 1'000, at("2026-05-01T10:00:00Z")));
  REQUIRE(fx.buy_at("regular", "r2", 1'000, at("2026-05-12T10:00:00Z")));
  REQUIRE(fx.buy_at("regular", "r3", 1'000, at("2026-05-22T10:00:00Z")));
  // lapsed: 4 purchases long ago, one refunded in full, so 3 count.
  for (int i = 1; i <= 4; ++i) {
    REQUIRE(fx.buy_at("lapsed", "l" + std::to_string(i), 5'000,
                      at("2025-09-0" + std::to_string(i) + "T10:00:00Z")));
  }
  REQUIRE(fx.refund("l4", "rl4", 5'000));
  // gone: one purchase, a year ago.
  REQUIRE(fx.buy_at("gone", "g1", 1'000, at("2025-06-01T10:00:00Z")));

  auto r = rfm(fx);
  CHECK(r.members == 6);
  CHECK(r.purchasers == 5);
  // Recency days 1, 2, 10, 272, 365 -> R 5, 4, 3, 2, 1. Frequency 4, 1, 3, 3, 1 -> mid-rank
  // 5, 2, 4, 4, 2, capped at the purchase count: F 4, 1, 3, 3, 1.
  const auto count = [&](RfmSegment s) { return r.segments[static_cast<std::size_t>(s)].members; };
  CHECK(count(RfmSegment::champions) == 1);      // fresh
  CHECK(count(RfmSegment::new_customers) == 1);  // newbie
  CHECK(count(RfmSegment::loyal) == 1);          // regular
  CHECK(count(RfmSegment::at_risk) == 1);        // lapsed
  CHECK(count(RfmSegment::hibernating) == 1);    // gone
  CHECK(count(RfmSegment::needs_attention) == 0);
  CHECK(r.segments[static_cast<std::size_t>(RfmSegment::at_risk)].monetary_minor == 15'000);
  CHECK(r.segments[static_cast<std::size_t>(RfmSegment::at_risk)].purchases == 3);
  CHECK(r.grid[4][3] == 1);  // fresh: R 5, F 4

  auto body = rfm_report_json(r, fx.ledger->program());
  CHECK(body["no_purchase_members"] == 1);
  REQUIRE(body["segments"].size() == rfm_segment_count);
  CHECK(body["segments"][0]["segment"] == "champions");
  CHECK(body["segments"][0]["share_bp"] == 2000);
}

TEST_CASE("RFM: where most members bought once, one-time buyers are never loyal",
          "[reports][rfm]") {
  LedgerFixture fx(make_program(), "2026-06-01T12:00:00Z");
  // Nine one-time buyers over the last nine days, one member with three purchases.
  for (int i = 0; i < 9; ++i) {
    const std::string m = "once" + std::to_string(i);
    fx.enrol(m);
    REQUIRE(fx.buy_at(m, m + "-o", 1'000, fx.clock.now() - std::chrono::days{i}));
  }
  fx.enrol("thrice");
  for (int i = 0; i < 3; ++i) {
    REQUIRE(fx.buy_at("thrice", "t" + std::to_string(i), 1'000,
                      fx.clock.now() - std::chrono::days{3 + i}));
  }
  auto r = rfm(fx);
  const auto count = [&](RfmSegment s) { return r.segments[static_cast<std::size_t>(s)].members; };
  CHECK(count(RfmSegment::loyal) + count(RfmSegment::champions) + count(RfmSegment::at_risk) ==
        1);  // thrice only
  CHECK(count(RfmSegment::new_customers) + count(RfmSegment::needs_attention) +
            count(RfmSegment::hibernating) ==
        9);
  CHECK(count(RfmSegment::new_customers) >= 4);  // the most recent one-time buyers
}

TEST_CASE("breakage counts points issued by adjustments, such as imported balances",
          "[reports][liability]") {
  LedgerFixture fx(expiring_program(), "2026-01-10T12:00:00Z");
  fx.enrol("a");
  REQUIRE(fx.adjust("a", 500, "legacy balance"));  // expires like earned points
  fx.clock.set(at("2027-02-01T12:00:00Z"));
  REQUIRE(fx.buy("a", "a1", 50'000));  // 500 earned, not expired
  auto r = liability(fx);
  require_matches_balances(fx, r, {"a"});
  CHECK(r.adjusted_in == 500);
  CHECK(r.earned == 500);
  // The purchase brought the member up to date: the expiry is posted by now.
  CHECK(r.expired_posted + r.expired_unposted == 500);
  CHECK(r.breakage_bp == 5000);  // 500 expired of 1000 issued
  CHECK(liability_report_json(r, fx.ledger->program())["history"]["adjusted_in_points"] == 500);
}

TEST_CASE("liability under the inactivity policy expires at the member's deadline",
          "[reports][liability]") {
  LedgerFixture fx(make_program({{"expiry", {{"policy", "inactivity"}, {"days", 90}}}}),
                   "2026-04-01T12:00:00Z");
  fx.enrol("active");
  fx.enrol("idle");
  REQUIRE(fx.buy_at("active", "a1", 1'000, at("2026-03-30T10:00:00Z")));  // deadline 2026-06-28
  REQUIRE(fx.buy_at("idle", "i1", 2'000, at("2025-12-01T10:00:00Z")));    // past: 2026-03-01
  auto r = liability(fx, 6);
  require_matches_balances(fx, r, {"active", "idle"});
  CHECK(r.expired_unposted == 20);
  CHECK(r.expiring[2].month == "2026-06");
  CHECK(r.expiring[2].points == 10);
  CHECK(r.no_expiry == 0);
}

TEST_CASE("a report stops when told, between members or inside a long SQL step", "[reports]") {
  LedgerFixture fx(make_program(), "2026-04-01T12:00:00Z", 0);
  constexpr int members = 5'000;
  fx.ledger->write_batch([&](Writer& w) {
    for (int i = 0; i < members; ++i) {
      const std::string id = "m" + std::to_string(i);
      REQUIRE(w.enrol(EnrolRequest{id}, fx.actor));
      REQUIRE(w.purchase(PurchaseRequest{id, "o" + std::to_string(i), 1'000, "EUR"}, fx.actor));
    }
  });
  const auto& program = fx.ledger->program();
  const KeepGoing stop = [] { return false; };
  fx.ledger->with_reader([&](Store& s) {
    CHECK_THROWS_AS(liability_report(s, program, fx.clock.now(), 12, stop), ReportStopped);
    // SQLite's progress handler asks inside the scan itself, long before 4096 members.
    int visited = 0;
    CHECK_THROWS_AS(s.reports().scan_member_states([&](const MemberState&) { ++visited; }, stop),
                    ReportStopped);
    CHECK(visited < report_check_members);
    CHECK_THROWS_AS(s.reports().entry_totals(stop), ReportStopped);
  });
  // The pooled connection is usable afterwards, without the handler.
  int asked = 0;
  LiabilityReport r;
  fx.ledger->with_reader([&](Store& s) {
    r = liability_report(s, program, fx.clock.now(), 12, [&] {
      ++asked;
      return true;
    });
  });
  CHECK(r.members == members);
  CHECK(r.outstanding == members * 10);
  CHECK(asked >= members / report_check_members);
}
