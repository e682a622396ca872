// End-to-end: the reports of SPEC 8 over HTTPS (docs/reports.md). The ledger-level rules are in
// tests/ledger/reports_test.cpp; here, what the admin gets from the real server.
#include <chrono>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ledger/time_zone.h"
#include "tests/api/api_fixture.h"

using namespace encore::test;
using nlohmann::json;

namespace {

json ok(Client& c, const std::string& target) {
  const auto res = c.get(target);
  INFO(target << " " << res.body);
  REQUIRE(res.status == 200);
  REQUIRE(res.header("content-type") == "application/json");
  return body_json(res);
}

void buy(Client& pos, const std::string& member, const std::string& order,
         std::int64_t amount_minor, const std::string& occurred_at) {
  const json body = {{"member_id", member},
                     {"order_id", order},
                     {"amount_minor", amount_minor},
                     {"currency", "EUR"},
                     {"occurred_at", occurred_at}};
  const auto res = pos.post("/v1/purchases", body);
  INFO(res.body);
  REQUIRE(res.status == 201);
}

// `days` before now, as RFC 3339 (the server runs on the real clock).
std::string days_ago(int days) {
  const auto now =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  return encore::format_rfc3339(now - std::chrono::days{days});
}

}  // namespace

TEST_CASE("reports: liability, repeat purchase and RFM from the running server", "[e2e][reports]") {
  ApiServer server;
  Client admin(server.port(), server.keys().admin);
  Client pos(server.port(), server.keys().pos);
  for (const char* m : {"rep-a", "rep-b", "rep-c"}) {
    REQUIRE(pos.post("/v1/members", {{"member_id", m}}).status == 201);
  }
  // rep-a buys twice, 10 days apart (the second visit earns the sample program's 200 bonus);
  // rep-b once, then holds 20 points; rep-c never buys. All of it expires (fixed term, 365 days)
  // within the 12 months the report lists.
  buy(pos, "rep-a", "rep-a1", 1'000, days_ago(60));
  buy(pos, "rep-a", "rep-a2", 2'000, days_ago(50));
  buy(pos, "rep-b", "rep-b1", 5'000, days_ago(40));
  REQUIRE(pos.post("/v1/holds", {{"member_id", "rep-b"}, {"points", 20}}).status == 201);

  SECTION("liability sums what the members' balance routes show") {
    std::int64_t balance = 0, available = 0, held = 0;
    for (const char* m : {"rep-a", "rep-b", "rep-c"}) {
      const auto b = ok(admin, std::string("/v1/members/") + m + "/balance");
      balance += b["balance"].get<std::int64_t>();
      available += b["available"].get<std::int64_t>();
      held += b["held"].get<std::int64_t>();
    }
    const auto r = ok(admin, "/v1/reports/liability");
    CHECK(balance == 10 + 20 + 200 + 50);
    CHECK(r["members"] == 3);
    CHECK(r["balance"]["points"] == balance);
    CHECK(r["outstanding"]["points"] == balance);
    CHECK(r["outstanding"]["value_minor"] == balance);  // point_value_minor 1
    CHECK(r["available"]["points"] == available);
    CHECK(r["held"]["points"] == held);
    CHECK(r["currency"] == "EUR");
    CHECK(r["timezone"] == "Europe/Paris");
    REQUIRE(r["expiring"].size() == 12);
    // Every lot expires within 365 days (fixed term): all of it is listed month by month.
    std::int64_t listed = 0;
    for (const auto& m : r["expiring"]) listed += m["points"].get<std::int64_t>();
    CHECK(listed == balance);
    CHECK(r["expiring_later"]["points"] == 0);
    CHECK(r["history"]["earned_points"] == balance);
    CHECK(r["history"]["breakage_bp"] == 0);

    CHECK(ok(admin, "/v1/reports/liability?months=3")["expiring"].size() == 3);
    for (const char* bad : {"0", "121", "x", "-1", "3.5", ""}) {
      const auto res = admin.get(std::string("/v1/reports/liability?months=") + bad);
      INFO(bad << " " << res.body);
      CHECK(res.status == 400);
      CHECK(res.header("content-type") == "application/problem+json");
      CHECK(body_json(res)["code"] == "invalid_request");
      CHECK(body_json(res)["field"] == "months");
    }
  }

  SECTION("repeat purchase") {
    const auto r = ok(admin, "/v1/reports/repeat-purchase");
    CHECK(r["purchasers"] == 2);
    CHECK(r["repeat_purchasers"] == 1);
    CHECK(r["second_purchase_rate_bp"] == 5000);
    CHECK(r["median_days_to_second"] == 10);
    // rep-a's cohort and rep-b's may be one month or two, depending on today's date.
    std::int64_t purchasers = 0, repeaters = 0;
    for (const auto& c : r["cohorts"]) {
      purchasers += c["purchasers"].get<std::int64_t>();
      repeaters += c["repeat_purchasers"].get<std::int64_t>();
    }
    CHECK(purchasers == 2);
    CHECK(repeaters == 1);
  }

  SECTION("RFM") {
    const auto r = ok(admin, "/v1/reports/rfm");
    CHECK(r["members"] == 3);
    CHECK(r["purchasers"] == 2);
    CHECK(r["no_purchase_members"] == 1);
    std::int64_t segmented = 0, monetary = 0;
    for (const auto& s : r["segments"]) {
      segmented += s["members"].get<std::int64_t>();
      monetary += s["monetary_minor"].get<std::int64_t>();
    }
    CHECK(segmented == 2);
    CHECK(monetary == 8'000);
  }

  SECTION("reports are for admins only") {
    for (const char* target :
         {"/v1/reports/liability", "/v1/reports/repeat-purchase", "/v1/reports/rfm"}) {
      CHECK(pos.get(target).status == 403);
    }
  }
}
