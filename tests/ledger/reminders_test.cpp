// Reminder planning (SPEC 7): rules and their edge days, time zones, consent, locales, caps and
// idempotence, with a manual clock.
#include <catch2/catch.hpp>

#include "ledger/reminders.h"
#include "ledger_fixture.h"

using namespace encore;
using namespace encore::test;
using nlohmann::json;
using std::chrono::days;
using std::chrono::seconds;

namespace {

json reminders_block(json rules, int min_gap = 7, int max_per_30 = 4) {
  return {
      {"rules", std::move(rules)},
      {"min_gap_days", min_gap},
      {"max_per_30_days", max_per_30},
      {"attribution_days", 14},
      {"default_locale", "en"},
      {"templates",
       {{"en",
         {{"expiring_soon", "{member_id}: {expiring_points} of {points} expire on {expires_on}"},
          {"dormant", "{member_id}: {points} waiting"}}},
        {"zh-CN", {{"expiring_soon", "您有{expiring_points}积分将于{expires_on}过期"}}}}},
      {"sink", {{"kind", "file"}, {"path", "reminders.ndjson"}}}};
}

Program program_with(json rules, std::string zone = "UTC", int min_gap = 7, int max_per_30 = 4,
                     int expiry_days = 365) {
  return make_program({{"timezone", zone},
                       {"expiry", {{"policy", "fixed_term"}, {"days", expiry_days}}},
                       {"reminders", reminders_block(std::move(rules), min_gap, max_per_30)}});
}

const json expiring_rule = {
    {"id", "exp"}, {"kind", "expiring_soon"}, {"days_before", {30, 7}}, {"min_points", 100}};
const json dormant_rule = {
    {"id", "winback"}, {"kind", "dormant"}, {"days", 60}, {"min_points", 100}};
const json second_rule = {{"id", "second"}, {"kind", "second_purchase"}, {"days", 14}};

struct Fixture : LedgerFixture {
  using LedgerFixture::LedgerFixture;

  void member(const std::string& id, bool opt_in = true,
              std::optional<std::string> locale = std::nullopt) {
    EnrolRequest req{id, std::nullopt, std::nullopt, std::move(locale), opt_in};
    auto r = ledger->write([&](Writer& w) { return w.enrol(req, actor); });
    REQUIRE(r);
  }
  std::vector<ReminderRow> plan() {
    std::vector<ReminderRow> out;
    ledger->with_reader([&](Store& s) { out = plan_reminders(s, ledger->program(), clock.now()); });
    return out;
  }
  std::vector<ReminderRow> run() { return run_reminder_planning(*ledger).planned; }
  std::vector<ReminderRow> outbox() {
    std::vector<ReminderRow> out;
    ledger->with_reader([&](Store& s) { out = s.reminders().all_reminders(); });
    return out;
  }
  void set_opt_in(const std::string& id, bool on) {
    MemberPatch patch;
    patch.marketing_opt_in = on;
    REQUIRE(ledger->write([&](Writer& w) { return w.update_member(id, patch); }));
  }
};

}  // namespace

TEST_CASE("expiring_soon fires on the first day of each days_before window", "[reminders]") {
  Fixture f(program_with(json::array({expiring_rule})));
  f.member("m1");
  f.member("small");
  REQUIRE(f.buy("m1", "o1", 20000));    // 200 points, expire at the end of 2027-01-10 (UTC)
  REQUIRE(f.buy("small", "o2", 5000));  // 50 points: under min_points

  f.clock.set(at("2026-12-11T23:59:59Z"));  // 30 days ahead is still before the expiry
  CHECK(f.run().empty());
  f.clock.set(at("2026-12-12T00:00:00Z"));
  auto planned = f.run();
  REQUIRE(planned.size() == 1);
  const auto& r = planned[0];
  CHECK(r.member_id == "m1");
  CHECK(r.rule_id == "exp");
  CHECK(r.kind == ReminderKind::expiring_soon);
  CHECK(r.expiring_points == 200);
  CHECK(r.points == 200);
  CHECK(r.expires_on == "2027-01-10");
  CHECK(r.message == "m1: 200 of 200 expire on 2027-01-10");
  CHECK(r.reminder_id.starts_with("rem_"));
  CHECK(r.reminder_id.size() == 4 + 32);
  CHECK(r.dedupe_key == "exp|30|m1|2027-01-10");

  SECTION("planning again the same day or the next week plans nothing new") {
    CHECK(f.run().empty());
    f.clock.advance(days{8});
    CHECK(f.run().empty());
    CHECK(f.outbox().size() == 1);
  }
  SECTION("the 7-day window is another reason for the same points") {
    f.clock.set(at("2027-01-03T23:59:59Z"));
    CHECK(f.run().empty());
    f.clock.set(at("2027-01-04T00:00:00Z"));
    auto week = f.run();
    REQUIRE(week.size() == 1);
    CHECK(week[0].dedupe_key == "exp|7|m1|2027-01-10");
    CHECK(week[0].reminder_id != r.reminder_id);
  }
  SECTION("expired points are no reason") {
    f.clock.set(at("2027-01-11T00:00:00Z"));
    CHECK(f.plan().empty());
  }
}

TEST_CASE("expires_on is the last day in the program's time zone", "[reminders][tz]") {
  Fixture f(program_with(json::array({expiring_rule}), "Asia/Shanghai"), "2026-01-11T00:00:00Z");
  f.member("m1");
  // 20:00Z is already 2026-01-11 in Shanghai: the lot expires at the end of 2027-01-11 local.
  REQUIRE(f.buy_at("m1", "o1", 20000, at("2026-01-10T20:00:00Z")));
  f.clock.set(at("2027-01-05T00:00:00Z"));
  auto planned = f.run();
  REQUIRE(planned.size() == 1);
  CHECK(planned[0].expires_on == "2027-01-11");
  CHECK(planned[0].dedupe_key == "exp|7|m1|2027-01-11");
}

TEST_CASE("dormant fires after `days` without purchase while enough is available", "[reminders]") {
  Fixture f(program_with(json::array({dormant_rule})));
  f.member("m1");
  f.member("held");
  f.member("poor");
  REQUIRE(f.buy("m1", "o1", 20000));
  REQUIRE(f.buy("held", "o2", 20000));
  REQUIRE(f.buy("poor", "o3", 9900));  // 99 points

  f.clock.advance(days{60} - seconds{1});
  REQUIRE(f.hold("held", 150, 3600));  // available 50
  CHECK(f.run().empty());
  f.clock.advance(seconds{1});
  auto planned = f.run();
  REQUIRE(planned.size() == 1);
  CHECK(planned[0].member_id == "m1");
  CHECK(planned[0].message == "m1: 200 waiting");
  CHECK_FALSE(planned[0].expires_on);

  auto for_m1 = [](const std::vector<ReminderRow>& rows) {
    return std::count_if(rows.begin(), rows.end(),
                         [](const ReminderRow& r) { return r.member_id == "m1"; });
  };
  SECTION("still dormant later: the same reason does not fire again") {
    f.clock.advance(days{30});
    auto later = f.run();
    CHECK(for_m1(later) == 0);
    CHECK(later.size() == 1);  // the hold on `held` lapsed: now it has 200 available
  }
  SECTION("a new purchase, then 60 more days: a new reminder") {
    REQUIRE(f.buy("m1", "o4", 1000));
    f.clock.advance(days{59});
    CHECK(for_m1(f.run()) == 0);
    f.clock.advance(days{1});
    auto again = f.run();
    REQUIRE(for_m1(again) == 1);
    CHECK(again[0].points == 210);
  }
}

TEST_CASE("second_purchase nudges after exactly one purchase", "[reminders]") {
  Fixture f(program_with(json::array({second_rule})));
  f.member("one");
  f.member("two");
  f.member("none");
  REQUIRE(f.buy("one", "o1", 1000));
  REQUIRE(f.buy("two", "o2", 1000));
  REQUIRE(f.buy("two", "o3", 1000));
  f.clock.advance(days{14} - seconds{1});
  CHECK(f.run().empty());
  f.clock.advance(seconds{1});
  auto planned = f.run();
  REQUIRE(planned.size() == 1);
  CHECK(planned[0].member_id == "one");
  // No template for second_purchase in any locale: the built-in English text.
  CHECK(planned[0].message == "Thank you for your first purchase! You have 10 points.");
  f.clock.advance(days{40});
  CHECK(f.run().empty());  // never twice for the same member
}

TEST_CASE("only opted-in members are reminded; opting out cancels pending ones",
          "[reminders][consent]") {
  Fixture f(program_with(json::array({dormant_rule})));
  f.member("in");
  f.member("out", false);
  f.member("erased");
  REQUIRE(f.buy("in", "o1", 20000));
  REQUIRE(f.buy("out", "o2", 20000));
  REQUIRE(f.buy("erased", "o3", 20000));
  REQUIRE(f.ledger->write(
      [&](Writer& w) { return w.erase_member("erased", std::nullopt, Actor{"admin:test"}); }));
  f.clock.advance(days{61});
  auto planned = f.run();
  REQUIRE(planned.size() == 1);
  CHECK(planned[0].member_id == "in");

  f.set_opt_in("in", false);
  auto outbox = f.outbox();
  REQUIRE(outbox.size() == 1);
  CHECK(outbox[0].state == ReminderState::cancelled);
  CHECK(f.run().empty());
  f.set_opt_in("in", true);
  CHECK(f.run().empty());  // the same reason was already planned once
}

TEST_CASE("messages use the member's locale, else the default locale", "[reminders][locale]") {
  Fixture f(program_with(json::array({expiring_rule, dormant_rule}), "UTC", 0, 10));
  f.member("zh", true, "zh-CN");
  f.member("fr", true, "fr");
  REQUIRE(f.buy("zh", "o1", 20000));
  REQUIRE(f.buy("fr", "o2", 20000));
  f.clock.set(at("2027-01-05T00:00:00Z"));
  auto planned = f.run();
  REQUIRE(planned.size() == 4);
  CHECK(planned[0].member_id == "fr");
  CHECK(planned[0].locale == "en");
  CHECK(planned[1].member_id == "zh");
  CHECK(planned[1].locale == "zh-CN");
  CHECK(planned[1].message == "您有200积分将于2027-01-10过期");
  // zh-CN has no dormant template: the default locale's.
  CHECK(planned[3].member_id == "zh");
  CHECK(planned[3].kind == ReminderKind::dormant);
  CHECK(planned[3].locale == "en");
  CHECK(planned[3].message == "zh: 200 waiting");
}

TEST_CASE("frequency caps hold across days", "[reminders][caps]") {
  // Purchase at day 0: second at day 14; dormant (20 days) waits for the 7-day gap; expiring
  // (lot expires at the end of day 30, window 7 days) meets max_per_30_days = 2.
  const json rules = json::array(
      {second_rule,
       {{"id", "dorm"}, {"kind", "dormant"}, {"days", 15}, {"min_points", 1}},
       {{"id", "exp"}, {"kind", "expiring_soon"}, {"days_before", 7}, {"min_points", 1}}});
  Fixture f(program_with(rules, "UTC", 7, 2, 30));
  f.member("m1");
  REQUIRE(f.buy("m1", "o1", 20000));
  const auto start = f.clock.now();
  std::vector<std::pair<int, std::string>> sent;
  for (int day = 1; day <= 30; ++day) {
    f.clock.set(start + days{day});
    for (const auto& r : f.run()) sent.emplace_back(day, r.rule_id);
  }
  REQUIRE(sent.size() == 2);
  CHECK(sent[0] == std::pair<int, std::string>{14, "second"});
  CHECK(sent[1] == std::pair<int, std::string>{21, "dorm"});

  SECTION("outside the 30 days the next reason may go") {
    f.clock.set(start + days{44});  // day 14 has left the window; lot expired -> dormant only
    CHECK(f.run().empty());
  }
}

TEST_CASE("the same day two runs are idempotent and the schedule remembers the run",
          "[reminders][schedule]") {
  Fixture f(program_with(json::array({dormant_rule, second_rule})), "2026-01-10T09:00:00Z");
  f.member("a");
  f.member("b");
  REQUIRE(f.buy("a", "o1", 20000));
  REQUIRE(f.buy("b", "o2", 20000));
  f.clock.advance(days{70});  // 09:00Z, before run_at 10:00
  CHECK(due_run_date(f.ledger->program(), f.clock.now()) == "2026-03-20");
  CHECK(reminder_run_due(*f.ledger, f.clock.now()));
  auto first = run_reminder_planning(*f.ledger);
  CHECK(first.planned.size() == 2);  // one each: the gap keeps the second rule out today
  CHECK_FALSE(reminder_run_due(*f.ledger, f.clock.now()));
  CHECK(run_reminder_planning(*f.ledger).planned.empty());
  f.clock.advance(std::chrono::hours{1});  // 10:00: today's slot is due
  CHECK(reminder_run_due(*f.ledger, f.clock.now()));
  CHECK(run_reminder_planning(*f.ledger).planned.empty());
  CHECK_FALSE(reminder_run_due(*f.ledger, f.clock.now()));
  CHECK(next_run_at(f.ledger->program(), f.clock.now()) == at("2026-03-22T10:00:00Z"));
}

TEST_CASE("a run inserts in chunks: other writes commit between them", "[reminders][schedule]") {
  Fixture f(program_with(json::array({dormant_rule})), "2026-01-10T09:00:00Z");
  for (int i = 0; i < 5; ++i) {
    const std::string id = "m" + std::to_string(i);
    f.member(id);
    REQUIRE(f.buy(id, "o" + std::to_string(i), 20000));
  }
  f.member("late");
  f.clock.advance(days{70});
  REQUIRE(f.plan().size() == 5);

  SECTION("a purchase posted between two chunks is committed before the run ends") {
    ReminderRunOptions options;
    options.rows_per_transaction = 2;
    int chunks_done = 0;
    options.after_each_transaction = [&] {
      ++chunks_done;
      if (chunks_done != 1) return;
      // Not blocked by the run: the writer is free between its transactions.
      REQUIRE(f.buy("late", "o-late", 1000));
      // The first chunk is committed and visible; the run date is not recorded yet.
      CHECK(f.outbox().size() == 2);
      CHECK(reminder_run_due(*f.ledger, f.clock.now()));
    };
    auto result = run_reminder_planning(*f.ledger, options);
    CHECK(chunks_done == 2);  // 5 rows in chunks of 2: two pauses between three transactions
    CHECK(result.planned.size() == 5);
    CHECK(f.outbox().size() == 5);
    CHECK_FALSE(reminder_run_due(*f.ledger, f.clock.now()));
    CHECK(f.balance("late").balance == 10);
  }
  SECTION("a run stopped after its first chunk is completed by the next run") {
    ReminderRunOptions options;
    options.rows_per_transaction = 2;
    options.after_each_transaction = [] { throw std::runtime_error("stopped"); };
    CHECK_THROWS(run_reminder_planning(*f.ledger, options));
    CHECK(f.outbox().size() == 2);
    CHECK(reminder_run_due(*f.ledger, f.clock.now()));
    auto rest = run_reminder_planning(*f.ledger);
    CHECK(rest.planned.size() == 3);  // the first two are skipped by their dedupe key
    CHECK(f.outbox().size() == 5);
    CHECK_FALSE(reminder_run_due(*f.ledger, f.clock.now()));
  }
}

TEST_CASE("retry delays grow exponentially with jitter and a cap", "[reminders]") {
  using ms = std::chrono::milliseconds;
  CHECK(retry_delay(1, ms{1000}, ms{60000}, 0.5) == ms{1000});
  CHECK(retry_delay(2, ms{1000}, ms{60000}, 0.5) == ms{2000});
  CHECK(retry_delay(4, ms{1000}, ms{60000}, 0.5) == ms{8000});
  CHECK(retry_delay(20, ms{1000}, ms{60000}, 0.5) == ms{60000});
  CHECK(retry_delay(1, ms{1000}, ms{60000}, 0.0) == ms{800});
  CHECK(retry_delay(1, ms{1000}, ms{60000}, 1.0) == ms{1200});
}

TEST_CASE("pooled readers see the outbox as it is after each run", "[reminders]") {
  Fixture f(program_with(json::array({dormant_rule})));
  f.member("m1");
  REQUIRE(f.buy("m1", "o1", 20000));
  f.clock.advance(days{61});
  CHECK(f.outbox().empty());
  CHECK(f.plan().size() == 1);
  CHECK(f.outbox().empty());
  CHECK(f.run().size() == 1);
  CHECK(f.outbox().size() == 1);
}

TEST_CASE("pooled readers stay fresh with every rule kind", "[reminders]") {
  Fixture f(program_with(json::array({expiring_rule, dormant_rule, second_rule})),
            "2027-01-05T00:00:00Z");
  for (const char* m : {"e1", "d1", "s1"}) f.member(m);
  REQUIRE(f.buy_at("e1", "o1", 20000, at("2026-01-10T12:00:00Z")));
  REQUIRE(f.buy_at("d1", "o2", 20000, at("2026-10-01T12:00:00Z")));
  REQUIRE(f.buy_at("s1", "o3", 1000, at("2026-12-15T12:00:00Z")));
  CHECK(f.plan().size() == 3);
  CHECK(f.outbox().empty());
  CHECK(f.run().size() == 3);
  CHECK(f.outbox().size() == 3);
  CHECK(f.outbox().size() == 3);
}

TEST_CASE("planning asks keep_going while it scans and stops before writing anything",
          "[reminders]") {
  // A server shutting down stops a plan over a million members (~20 s) instead of waiting for it.
  Fixture f(program_with(json::array({dormant_rule})));
  constexpr int members = 1100;  // more rows than one check interval (1,024) in the scan
  f.ledger->write_batch([&](Writer& w) {
    for (int i = 0; i < members; ++i) {
      const std::string id = "m" + std::to_string(i);
      REQUIRE(w.enrol(EnrolRequest{id, std::nullopt, std::nullopt, std::nullopt, true}, f.actor));
      REQUIRE(w.purchase(PurchaseRequest{id, "o" + std::to_string(i), 20000, "EUR"}, f.actor));
    }
  });
  f.clock.advance(days{70});

  int asked = 0;
  std::vector<ReminderRow> planned;
  f.ledger->with_reader([&](Store& s) {
    planned = plan_reminders(s, f.ledger->program(), f.clock.now(), [&] {
      ++asked;
      return true;
    });
  });
  CHECK(planned.size() == members);
  // Once before the rule, then every 1,024 units: 1,100 rows scanned + 1,100 candidates
  // considered (units 1,024, inside the scan, and 2,048).
  CHECK(asked == 3);

  // Stopped inside the scan (the second question): the pooled reader's statement and snapshot
  // are released, and the next plan on the pool sees later writes.
  int questions = 0;
  f.ledger->with_reader([&](Store& s) {
    CHECK_THROWS_AS(
        plan_reminders(s, f.ledger->program(), f.clock.now(), [&] { return ++questions < 2; }),
        ReportStopped);
  });
  CHECK(questions == 2);
  f.member("late");
  REQUIRE(f.buy("late", "o-late", 20000));
  f.clock.advance(days{70});
  f.ledger->with_reader([&](Store& s) {
    CHECK(plan_reminders(s, f.ledger->program(), f.clock.now()).size() == members + 1);
  });
  ReminderRunOptions stop;
  stop.keep_going = [] { return false; };
  const auto stopped = run_reminder_planning(*f.ledger, stop);
  CHECK_FALSE(stopped.complete);
  CHECK(stopped.planned.empty());
  CHECK(f.outbox().empty());
  CHECK(reminder_run_due(*f.ledger, f.clock.now()));
  // The next run plans everything.
  CHECK(f.run().size() == members + 1);
  CHECK_FALSE(reminder_run_due(*f.ledger, f.clock.now()));
}
