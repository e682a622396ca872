// End-to-end happy paths of every SPEC 5 route, and the role x route auth matrix.
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/api/api_fixture.h"

using namespace encore::test;
using nlohmann::json;

namespace {

std::int64_t balance_of(Client& c, const std::string& member) {
  return ok_json(c.get("/v1/members/" + member + "/balance"), 200)
      .at("balance")
      .get<std::int64_t>();
}

}  // namespace

TEST_CASE("every business route answers its happy path", "[e2e][routes]") {
  ApiServer server;
  Client admin(server.port(), server.keys().admin);
  Client pos(server.port(), server.keys().pos);
  Client app(server.port(), server.keys().app);
  const std::string m = "card:0001.A-b";

  // Enrol (pos), duplicate enrol, read, patch (app).
  auto enrolled =
      ok_json(pos.post("/v1/members", {{"member_id", m}, {"email", "a@example.com"}}), 201);
  CHECK(enrolled["member_id"] == m);
  CHECK(enrolled["email"] == "a@example.com");
  CHECK(enrolled["tier"] == "base");
  CHECK(enrolled["balance"] == 0);
  CHECK(enrolled["marketing_opt_in"] == false);
  const auto dup = app.post("/v1/members", {{"member_id", m}});
  CHECK(dup.status == 409);
  CHECK(body_json(dup)["code"] == "member_exists");
  auto got = ok_json(app.get("/v1/members/" + m), 200);
  for (const char* field : {"member_id", "email", "phone", "locale", "marketing_opt_in", "tier",
                            "balance", "enrolled_at"}) {
    CHECK(got.contains(field));
  }
  auto patched =
      ok_json(app.patch("/v1/members/" + m,
                        {{"locale", "zh-CN"}, {"marketing_opt_in", true}, {"email", nullptr}}),
              200);
  CHECK(patched["locale"] == "zh-CN");
  CHECK(patched["marketing_opt_in"] == true);
  CHECK(patched["email"].is_null());
  CHECK(ok_json(pos.get("/v1/members/" + m), 200)["locale"] == "zh-CN");
  CHECK(pos.get("/v1/members/nobody").status == 404);

  // Quote, then the purchase posts exactly what was quoted.
  auto quote = ok_json(pos.get("/v1/quote?member_id=" + m + "&amount_minor=12345"), 200);
  CHECK(quote["points"] == 123);
  auto p1 = ok_json(pos.post("/v1/purchases", {{"member_id", m},
                                               {"order_id", "o-1"},
                                               {"amount_minor", 12345},
                                               {"currency", "EUR"},
                                               {"store_id", "s1"}}),
                    201);
  CHECK(p1["order_id"] == "o-1");
  CHECK(p1["member_id"] == m);
  CHECK(p1["points_earned"] == 123);
  CHECK(p1["bonus_points"] == 0);
  CHECK(p1["tier"] == "base");
  REQUIRE(p1["entries"].size() == 1);
  CHECK(p1["entries"][0]["kind"] == "earn");
  CHECK(p1["balance"]["balance"] == 123);
  // The second purchase within 30 days fires the nth_purchase bonus; the quote says so first.
  auto quote2 = ok_json(pos.get("/v1/quote?member_id=" + m + "&amount_minor=5000"), 200);
  CHECK(quote2["points"] == 250);
  auto p2 = ok_json(
      pos.post(
          "/v1/purchases",
          {{"member_id", m}, {"order_id", "o-2"}, {"amount_minor", 5000}, {"currency", "EUR"}}),
      201);
  CHECK(p2["points_earned"] == 50);
  CHECK(p2["bonus_points"] == 200);
  CHECK(p2["balance"]["balance"] == 373);
  std::set<std::string> kinds;
  for (const auto& e : p2["entries"]) kinds.insert(e["kind"].get<std::string>());
  CHECK(kinds == std::set<std::string>{"earn", "bonus"});

  auto balance = ok_json(app.get("/v1/members/" + m + "/balance"), 200);
  CHECK(balance["balance"] == 373);
  CHECK(balance["available"] == 373);
  CHECK(balance["pending"] == 0);
  CHECK(balance["held"] == 0);
  CHECK(balance["debt"] == 0);
  CHECK(balance["tier"] == "base");
  CHECK(balance["qualifying_points"] == 173);
  CHECK(balance["next_tier"]["name"] == "silver");
  CHECK(balance["next_tier"]["points_needed"] == 1000 - 173);
  REQUIRE(balance["expiring"].is_array());
  REQUIRE(!balance["expiring"].empty());
  CHECK(balance["expiring"].size() <= 3);

  // Refund part of o-1: floor(123 * 2345 / 12345) = 23.
  auto refund = ok_json(
      pos.post("/v1/refunds", {{"order_id", "o-1"}, {"refund_id", "r-1"}, {"amount_minor", 2345}}),
      201);
  CHECK(refund["points_reversed"] == 23);
  CHECK(refund["balance"]["balance"] == 350);
  REQUIRE(!refund["entries"].empty());
  CHECK(refund["entries"][0]["kind"] == "reverse");
  const auto too_much =
      pos.post("/v1/refunds", {{"order_id", "o-1"}, {"refund_id", "r-2"}, {"amount_minor", 12345}});
  CHECK(too_much.status == 422);
  CHECK(body_json(too_much)["code"] == "refund_exceeds_purchase");

  // Redemption with lot draws.
  auto redeem = ok_json(
      pos.post("/v1/redemptions", {{"member_id", m}, {"points", 50}, {"reward", "coffee"}}), 201);
  CHECK(redeem["entry"]["kind"] == "redeem");
  CHECK(redeem["entry"]["points"] == -50);
  CHECK(!redeem["entry"]["lots"].empty());
  CHECK(redeem["balance"]["balance"] == 300);

  // Hold + full capture.
  auto hold = ok_json(pos.post("/v1/holds", {{"member_id", m}, {"points", 100}}), 201);
  const std::string h1 = hold["hold_id"];
  CHECK(hold["expires_at"].is_string());
  CHECK(hold["points"] == 100);
  CHECK(hold["state"] == "open");
  auto held = ok_json(pos.get("/v1/members/" + m + "/balance"), 200);
  CHECK(held["held"] == 100);
  CHECK(held["available"] == 200);
  auto cap =
      ok_json(pos.send("POST", "/v1/holds/" + h1 + "/capture", std::nullopt, unique_key()), 200);
  CHECK(cap["hold"]["hold_id"] == h1);
  CHECK(cap["entry"]["kind"] == "redeem");
  CHECK(cap["entry"]["points"] == -100);
  CHECK(cap["balance"]["balance"] == 200);
  CHECK(cap["balance"]["held"] == 0);
  const auto again = pos.post("/v1/holds/" + h1 + "/capture", json::object());
  CHECK(again.status == 422);
  CHECK(body_json(again)["code"] == "hold_not_open");

  // Hold + partial capture: the rest is released at once.
  auto hold2 =
      ok_json(pos.post("/v1/holds", {{"member_id", m}, {"points", 60}, {"ttl_seconds", 60}}), 201);
  const std::string h2 = hold2["hold_id"];
  auto cap2 = ok_json(pos.post("/v1/holds/" + h2 + "/capture", {{"points", 20}}), 200);
  CHECK(cap2["entry"]["points"] == -20);
  CHECK(cap2["hold"]["captured_points"] == 20);
  CHECK(cap2["balance"]["balance"] == 180);
  CHECK(cap2["balance"]["held"] == 0);
  CHECK(cap2["balance"]["available"] == 180);

  // Hold + release.
  auto hold3 = ok_json(pos.post("/v1/holds", {{"member_id", m}, {"points", 30}}), 201);
  const std::string h3 = hold3["hold_id"];
  CHECK(ok_json(pos.get("/v1/members/" + m + "/balance"), 200)["available"] == 150);
  auto rel =
      ok_json(pos.send("POST", "/v1/holds/" + h3 + "/release", std::nullopt, unique_key()), 200);
  CHECK(rel["hold"]["hold_id"] == h3);
  CHECK(rel["hold"]["state"] != "open");
  CHECK(rel["balance"]["available"] == 180);
  const auto rel_again = pos.post("/v1/holds/" + h3 + "/release", json::object());
  CHECK(rel_again.status == 422);
  CHECK(body_json(rel_again)["code"] == "hold_not_open");

  // Adjustment and its reversal (admin).
  auto adj = ok_json(
      admin.post("/v1/adjustments", {{"member_id", m}, {"points", 500}, {"reason", "goodwill"}}),
      201);
  REQUIRE(!adj["entries"].empty());
  const auto adj_entry = adj["entries"].back();
  CHECK(adj_entry["kind"] == "adjust");
  CHECK(adj_entry["points"] == 500);
  CHECK(adj_entry["reason"] == "goodwill");
  CHECK(adj["balance"]["balance"] == 680);
  const auto adj_id = adj_entry["id"].get<std::int64_t>();
  auto rev = ok_json(
      admin.post("/v1/entries/" + std::to_string(adj_id) + "/reversal", {{"reason", "typo"}}), 201);
  CHECK(rev["balance"]["balance"] == 180);
  const auto neg = admin.post("/v1/adjustments",
                              {{"member_id", m}, {"points", -100000}, {"reason", "too much"}});
  CHECK(neg.status == 422);
  CHECK(body_json(neg)["code"] == "insufficient_points");
  CHECK(balance_of(app, m) == 180);

  // Entries, paged by 3 until next_cursor is null: newest first, no gap, no duplicate.
  auto all = ok_json(app.get("/v1/members/" + m + "/entries?limit=200"), 200);
  CHECK(all["next_cursor"].is_null());
  const auto total = all["entries"].size();
  REQUIRE(total == 9);  // earn, earn, bonus, reverse, 3 redeem, adjust, its reversal
  std::vector<std::int64_t> ids;
  std::string target = "/v1/members/" + m + "/entries?limit=3";
  for (int pages = 0; pages < 100; ++pages) {
    auto page = ok_json(app.get(target), 200);
    CHECK(page["entries"].size() <= 3);
    for (const auto& e : page["entries"]) {
      for (const char* f : {"id", "kind", "points", "occurred_at", "recorded_at", "actor"}) {
        CHECK(e.contains(f));
      }
      ids.push_back(e["id"].get<std::int64_t>());
    }
    if (page["next_cursor"].is_null()) break;
    target =
        "/v1/members/" + m + "/entries?limit=3&cursor=" + page["next_cursor"].get<std::string>();
  }
  REQUIRE(ids.size() == total);
  for (std::size_t i = 1; i < ids.size(); ++i) CHECK(ids[i] < ids[i - 1]);
  for (std::size_t i = 0; i < total; ++i) CHECK(all["entries"][i]["id"] == ids[i]);
  std::int64_t sum = 0;
  for (const auto& e : all["entries"]) sum += e["points"].get<std::int64_t>();
  CHECK(sum == 180);
  CHECK(all["entries"].back()["order_id"] == "o-1");
  CHECK(all["entries"].back()["actor"] == "pos-1");

  // Tier history.
  auto history = ok_json(app.get("/v1/members/" + m + "/tier-history"), 200);
  CHECK(history["member_id"] == m);
  CHECK(history["tier"] == "base");
  CHECK(history["changes"].is_array());

  // Program, metrics, healthz.
  auto program = ok_json(admin.get("/v1/program"), 200);
  CHECK(program["currency"] == "EUR");
  CHECK(program["timezone"] == "Europe/Paris");
  const auto metrics = admin.get("/metrics");
  REQUIRE(metrics.status == 200);
  CHECK(metrics.header("content-type").starts_with("text/plain"));
  CHECK(metrics.body.find("encore_http_requests_total{") != std::string::npos);
  CHECK(metrics.body.find("encore_http_request_duration_seconds_bucket{method=\"POST\",route=\"/v1/"
                          "purchases\"") != std::string::npos);
  CHECK(metrics.body.find("encore_members 1\n") != std::string::npos);
  // The member read and written above is held (exactly) in the member cache.
  CHECK(metrics.body.find("encore_member_cache_members 1\n") != std::string::npos);
  CHECK(metrics.body.find("encore_member_cache_hits_total ") != std::string::npos);
  // The writes above went to the WAL, which no restart has emptied yet.
  const auto wal_at = metrics.body.find("\nencore_wal_frames ");
  REQUIRE(wal_at != std::string::npos);
  CHECK(std::stoll(metrics.body.substr(wal_at + std::string("\nencore_wal_frames ").size())) > 0);
  // Every batch so far committed, and each one is in the writer's timing histograms once; the
  // buckets are cumulative.
  auto metric_value = [&](const std::string& line_start) -> long long {
    const auto at = metrics.body.find("\n" + line_start + " ");
    if (at == std::string::npos) return -1;
    return std::stoll(metrics.body.substr(at + line_start.size() + 2));
  };
  const long long batches = metric_value("encore_write_batches_total");
  CHECK(batches > 0);
  CHECK(metric_value("encore_write_failed_commits_total") == 0);
  for (const std::string name :
       {"encore_write_queue_wait_seconds", "encore_write_batch_prepare_seconds",
        "encore_write_batch_jobs_seconds", "encore_write_commit_seconds"}) {
    CAPTURE(name);
    CHECK(metric_value(name + "_count") == batches);
    CHECK(metric_value(name + "_bucket{le=\"+Inf\"}") == batches);
    const long long fast = metric_value(name + "_bucket{le=\"0.001\"}");
    const long long slower = metric_value(name + "_bucket{le=\"0.01\"}");
    CHECK(fast >= 0);
    CHECK(fast <= slower);
    CHECK(slower <= batches);
  }
  // Each committed batch was answered after a WAL sync; one sync may cover several batches.
  const long long syncs = metric_value("encore_write_syncs_total");
  CHECK(syncs > 0);
  CHECK(syncs <= batches);
  CHECK(metric_value("encore_write_sync_seconds_count") == syncs);
  CHECK(metric_value("encore_write_failed_syncs_total") == 0);
  CHECK(metric_value("encore_write_undeferred_batches_total") == 0);
  CHECK(metric_value("encore_durability_lost") == 0);
  const auto health = Client(server.port(), "").get("/healthz");
  CHECK(health.status == 200);
  CHECK(body_json(health)["status"] == "ok");

  // Admin operations: expiry runs (a dry run, then a real one), tier recompute, erasure.
  auto dry = ok_json(
      admin.post("/v1/admin/expiry-runs", {{"as_of", "2031-01-01T00:00:00Z"}, {"dry_run", true}}),
      200);
  CHECK(dry["dry_run"] == true);
  // as_of in the future is capped at now (points never expire early); nothing has expired yet.
  CHECK(dry["members"] == 0);
  CHECK(dry["entries"] == 0);
  CHECK(dry["points"] == 0);
  CHECK(balance_of(app, m) == 180);  // a dry run writes nothing
  auto run = ok_json(admin.send("POST", "/v1/admin/expiry-runs", std::nullopt, unique_key()), 200);
  CHECK(run["dry_run"] == false);
  CHECK(run["entries"] == 0);
  CHECK(run.contains("members"));
  CHECK(run.contains("points"));
  auto recompute = ok_json(admin.post("/v1/admin/tiers/recompute", json::object()), 200);
  CHECK(recompute["changed"].is_number_integer());
  auto erased =
      ok_json(admin.send("POST", "/v1/members/" + m + "/erase", std::nullopt, unique_key()), 200);
  CHECK(erased["member_id"] == m);
  CHECK(erased["email"].is_null());
  // An erasure may carry a reason (recorded with the actor); anything else is refused by name.
  CHECK(admin
            .send("POST", "/v1/members/" + m + "/erase", json{{"reason", "GDPR 7"}}.dump(),
                  unique_key())
            .status == 200);
  auto bad_reason =
      admin.send("POST", "/v1/members/" + m + "/erase", json{{"reason", 5}}.dump(), unique_key());
  CHECK(bad_reason.status == 400);
  CHECK(body_json(bad_reason)["field"] == "reason");
  auto unknown =
      admin.send("POST", "/v1/members/" + m + "/erase", json{{"why", "x"}}.dump(), unique_key());
  CHECK(unknown.status == 400);
  CHECK(body_json(unknown)["field"] == "why");
  CHECK(erased["locale"].is_null());
  CHECK(balance_of(app, m) == 180);  // erasure removes contact data, not the ledger
}

namespace {

struct RouteCase {
  std::string method;
  std::string target;
  std::set<std::string> roles;  // roles allowed
  std::optional<std::string> body;
};

std::vector<RouteCase> route_cases(const std::string& member, const std::string& hold,
                                   std::int64_t entry) {
  const std::set<std::string> all = {"pos", "app", "admin"};
  const std::set<std::string> pos_admin = {"pos", "admin"};
  const std::set<std::string> admin = {"admin"};
  const auto buy = json{
      {"member_id", member},
      {"order_id", "matrix-order"},
      {"amount_minor", 100},
      {"currency",
       "EUR"}}.dump();
  return {
      {"POST", "/v1/members", all, json{{"member_id", "matrix-new"}}.dump()},
      {"GET", "/v1/members/" + member, all, std::nullopt},
      {"PATCH", "/v1/members/" + member, {"app", "admin"}, json{{"locale", "fr"}}.dump()},
      {"GET", "/v1/members/" + member + "/balance", all, std::nullopt},
      {"GET", "/v1/members/" + member + "/entries", all, std::nullopt},
      {"GET", "/v1/members/" + member + "/tier-history", all, std::nullopt},
      {"POST", "/v1/purchases", pos_admin, buy},
      {"POST", "/v1/refunds", pos_admin,
       json{{"order_id", "matrix-none"}, {"refund_id", "rf"}, {"amount_minor", 1}}.dump()},
      {"POST", "/v1/redemptions", pos_admin, json{{"member_id", member}, {"points", 1}}.dump()},
      {"POST", "/v1/holds", pos_admin, json{{"member_id", member}, {"points", 1}}.dump()},
      {"POST", "/v1/holds/" + hold + "/capture", pos_admin, std::nullopt},
      {"POST", "/v1/holds/" + hold + "/release", pos_admin, std::nullopt},
      {"POST", "/v1/adjustments", admin,
       json{{"member_id", member}, {"points", 1}, {"reason", "matrix"}}.dump()},
      {"POST", "/v1/entries/" + std::to_string(entry) + "/reversal", admin,
       json{{"reason", "matrix"}}.dump()},
      {"GET", "/v1/quote?member_id=" + member + "&amount_minor=100", pos_admin, std::nullopt},
      {"GET", "/v1/program", admin, std::nullopt},
      {"GET", "/metrics", admin, std::nullopt},
      {"POST", "/v1/admin/expiry-runs", admin, json{{"dry_run", true}}.dump()},
      {"POST", "/v1/members/matrix-nobody/erase", admin, std::nullopt},
      {"POST", "/v1/admin/tiers/recompute", admin, std::nullopt},
      {"GET", "/v1/reports/liability", admin, std::nullopt},
      {"GET", "/v1/reports/repeat-purchase", admin, std::nullopt},
      {"GET", "/v1/reports/rfm", admin, std::nullopt},
  };
}

}  // namespace

TEST_CASE("auth matrix: each role gets exactly the routes SPEC 5 gives it", "[e2e][auth]") {
  ApiServer server;
  Client admin(server.port(), server.keys().admin);
  const std::string m = "matrix-member";
  REQUIRE(admin.post("/v1/members", {{"member_id", m}}).status == 201);
  auto earn = admin.post("/v1/purchases", {{"member_id", m},
                                           {"order_id", "matrix-seed"},
                                           {"amount_minor", 100000},
                                           {"currency", "EUR"}});
  REQUIRE(earn.status == 201);
  const auto entry = body_json(earn)["entries"][0]["id"].get<std::int64_t>();
  auto hold = admin.post("/v1/holds", {{"member_id", m}, {"points", 5}});
  REQUIRE(hold.status == 201);
  const std::string hold_id = body_json(hold)["hold_id"];
  const auto cases = route_cases(m, hold_id, entry);

  const std::vector<std::pair<std::string, std::string>> roles = {
      {"pos", server.keys().pos}, {"app", server.keys().app}, {"admin", server.keys().admin}};
  // Forbidden roles first, so that allowed calls (which may consume the hold) come after.
  for (const bool allowed_pass : {false, true}) {
    for (const auto& [role, key] : roles) {
      Client client(server.port(), key);
      for (const auto& c : cases) {
        const bool allowed = c.roles.count(role) > 0;
        if (allowed != allowed_pass) continue;
        INFO(role << " " << c.method << " " << c.target);
        const auto res =
            client.send(c.method, c.target, c.body,
                        c.method == "POST" ? std::optional(unique_key()) : std::nullopt);
        INFO(res.status << " " << res.body);
        if (allowed) {
          CHECK(res.status != 401);
          CHECK(res.status != 403);
          CHECK(res.status < 500);
        } else {
          CHECK(res.status == 403);
          CHECK(res.header("content-type") == "application/problem+json");
          CHECK(body_json(res)["code"] == "forbidden");
        }
      }
    }
  }

  // No key, a malformed or unknown key, a revoked key: 401 with WWW-Authenticate on every route.
  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>>
      unauthenticated = {
          {"no key", {}},
          {"not bearer", {{"Authorization", "Basic " + server.keys().admin}}},
          {"unknown key", {{"Authorization", "Bearer not-a-real-key"}}},
          {"revoked key", {{"Authorization", "Bearer " + server.keys().revoked}}},
      };
  Client anonymous(server.port(), "");
  for (const auto& [label, headers] : unauthenticated) {
    for (const auto& c : cases) {
      INFO(label << " " << c.method << " " << c.target);
      auto h = headers;
      if (c.method == "POST") h.emplace_back("Idempotency-Key", unique_key());
      const auto res = anonymous.send(c.method, c.target, c.body, std::nullopt, h);
      INFO(res.body);
      CHECK(res.status == 401);
      CHECK(res.header("www-authenticate") == "Bearer");
      CHECK(res.header("content-type") == "application/problem+json");
      CHECK(body_json(res)["code"] == "unauthorized");
      CHECK(res.body.find(server.keys().revoked) == std::string::npos);
    }
  }
  // /healthz needs no key.
  CHECK(anonymous.get("/healthz").status == 200);
}

TEST_CASE("concurrent first requests after start are all authenticated (no 401 while keys load)",
          "[e2e][auth]") {
  // Regression: the key cache skipped the reload when another thread held it, and answered from
  // the still-empty map, so valid keys got 401 right after a (re)start.
  for (int round = 0; round < 3; ++round) {
    ApiServer server;
    constexpr int threads = 16;
    std::vector<unsigned> statuses(threads);
    std::vector<std::thread> pool;
    std::atomic<int> ready{0};
    for (int i = 0; i < threads; ++i) {
      pool.emplace_back([&, i] {
        Client c(server.port(), server.keys().app);
        c.get("/healthz");  // no key needed: does not load the key cache
        ++ready;
        while (ready.load() < threads) std::this_thread::yield();
        statuses[static_cast<std::size_t>(i)] = c.get("/v1/members/nobody").status;
      });
    }
    for (auto& t : pool) t.join();
    for (unsigned s : statuses) CHECK(s == 404);
  }
}
