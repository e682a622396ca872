// Idempotency-Key semantics (SPEC 5) and concurrent writers against the real server.
#include <SQLiteCpp/SQLiteCpp.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/api/api_fixture.h"

using namespace encore::test;
using nlohmann::json;

namespace {

void enrol(Client& c, const std::string& member) {
  const auto res = c.post("/v1/members", {{"member_id", member}});
  INFO(res.body);
  REQUIRE(res.status == 201);
}

void give_points(Client& admin, const std::string& member, std::int64_t points) {
  const auto res = admin.post("/v1/adjustments",
                              {{"member_id", member}, {"points", points}, {"reason", "seed"}});
  INFO(res.body);
  REQUIRE(res.status == 201);
}

}  // namespace

TEST_CASE("idempotency: replay, reuse, stored refusals, missing key, 400 not stored",
          "[e2e][idempotency]") {
  ApiServer server;
  Client pos(server.port(), server.keys().pos);
  Client admin(server.port(), server.keys().admin);
  const std::string m = "idem-member";
  enrol(pos, m);

  SECTION("a replay returns the same status and byte-identical body, and posts nothing more") {
    const std::string body = json{
        {"member_id", m},
        {"order_id", "idem-o1"},
        {"amount_minor", 1000},
        {"currency", "EUR"}}.dump();
    const auto first = pos.send("POST", "/v1/purchases", body, "purchase-1");
    REQUIRE(first.status == 201);
    CHECK(first.header("idempotent-replayed").empty());
    const auto entries_before = read_db(server.db()).entries;
    for (int i = 0; i < 2; ++i) {
      const auto again = pos.send("POST", "/v1/purchases", body, "purchase-1");
      CHECK(again.status == 201);
      CHECK(again.body == first.body);
      CHECK(again.header("idempotent-replayed") == "true");
      CHECK(again.header("content-type") == "application/json");
    }
    CHECK(read_db(server.db()).entries == entries_before);
    CHECK(read_db(server.db()).earn_entries_by_order["idem-o1"] == 1);
    // Keys are per API key: the admin key may use the same Idempotency-Key independently; the
    // order then is already posted.
    const auto other = admin.send("POST", "/v1/purchases", body, "purchase-1");
    CHECK(other.status == 422);
    CHECK(other.header("idempotent-replayed").empty());
    CHECK(body_json(other)["code"] == "order_already_posted");

    // Same key, different body: 422 idempotency_key_reused, nothing written.
    const auto changed = json{
        {"member_id", m},
        {"order_id", "idem-o1"},
        {"amount_minor", 2000},
        {"currency", "EUR"}}.dump();
    const auto reused = pos.send("POST", "/v1/purchases", changed, "purchase-1");
    CHECK(reused.status == 422);
    CHECK(reused.header("content-type") == "application/problem+json");
    CHECK(body_json(reused)["code"] == "idempotency_key_reused");
    // Same key on another route is a different request too.
    const auto other_route = pos.send("POST", "/v1/redemptions",
                                      json{{"member_id", m}, {"points", 1}}.dump(), "purchase-1");
    CHECK(other_route.status == 422);
    CHECK(body_json(other_route)["code"] == "idempotency_key_reused");
    CHECK(read_db(server.db()).entries == entries_before);
  }

  SECTION("a refusal replays as the same 422 even after the member gets points") {
    const std::string body = json{{"member_id", m}, {"points", 40}}.dump();
    const auto refused = pos.send("POST", "/v1/redemptions", body, "redeem-1");
    REQUIRE(refused.status == 422);
    CHECK(body_json(refused)["code"] == "insufficient_points");
    give_points(admin, m, 1000);
    const auto replay = pos.send("POST", "/v1/redemptions", body, "redeem-1");
    CHECK(replay.status == 422);
    CHECK(replay.body == refused.body);
    CHECK(replay.header("idempotent-replayed") == "true");
    CHECK(replay.header("content-type") == "application/problem+json");
    CHECK(read_db(server.db()).balance_of(m) == 1000);
    // A new key succeeds.
    CHECK(pos.send("POST", "/v1/redemptions", body, "redeem-2").status == 201);
    CHECK(read_db(server.db()).balance_of(m) == 960);
  }

  SECTION("a pos POST without Idempotency-Key is 400 naming the header; invalid keys too") {
    const std::string body = json{{"member_id", m}, {"points", 1}}.dump();
    const auto res = pos.send("POST", "/v1/redemptions", body);
    CHECK(res.status == 400);
    auto problem = body_json(res);
    CHECK(problem["code"] == "invalid_request");
    CHECK(problem.dump().find("Idempotency-Key") != std::string::npos);
    const auto enrol_res = pos.send("POST", "/v1/members", json{{"member_id", "no-key"}}.dump());
    CHECK(enrol_res.status == 400);
    CHECK(pos.send("POST", "/v1/members", json{{"member_id", "long-key"}}.dump(),
                   std::string(129, 'k'))
              .status == 400);
    CHECK(
        pos.send("POST", "/v1/members", json{{"member_id", "ctl-key"}}.dump(), std::string("a\tb"))
            .status == 400);
    // Admin keys may omit it.
    CHECK(admin.send("POST", "/v1/members", json{{"member_id", "admin-no-key"}}.dump()).status ==
          201);
    CHECK(pos.get("/v1/members/no-key").status == 404);
  }

  SECTION("400 responses are not stored: the fixed request with the same key succeeds") {
    const auto bad = pos.send("POST", "/v1/purchases",
                              json{{"member_id", m},
                                   {"order_id", "idem-fix"},
                                   {"amount_minor", "1000"},
                                   {"currency", "EUR"}}
                                  .dump(),
                              "fix-1");
    REQUIRE(bad.status == 400);
    CHECK(body_json(bad)["field"] == "amount_minor");
    const auto bad_again = pos.send("POST", "/v1/purchases", "{not json", "fix-1");
    CHECK(bad_again.status == 400);
    CHECK(bad_again.header("idempotent-replayed").empty());
    const auto wrong_type =
        pos.send("POST", "/v1/purchases", "{}", "fix-1", {{"Content-Type", "text/plain"}});
    CHECK(wrong_type.status == 415);
    const auto good = pos.send(
        "POST", "/v1/purchases",
        json{
            {"member_id", m}, {"order_id", "idem-fix"}, {"amount_minor", 1000}, {"currency", "EUR"}}
            .dump(),
        "fix-1");
    CHECK(good.status == 201);
    CHECK(good.header("idempotent-replayed").empty());
    CHECK(read_db(server.db()).earn_entries_by_order["idem-fix"] == 1);
  }
}

TEST_CASE("concurrent identical requests with one key: one 201, the rest replays or 409",
          "[e2e][idempotency][concurrency]") {
  ApiServer server;
  Client pos(server.port(), server.keys().pos);
  enrol(pos, "race-member");
  const std::string body = json{
      {"member_id", "race-member"},
      {"order_id", "race-order"},
      {"amount_minor", 5000},
      {"currency", "EUR"}}.dump();
  constexpr int threads = 20;
  std::vector<HttpResponse> responses(threads);
  std::vector<std::thread> pool;
  std::atomic<int> ready{0};
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      Client c(server.port(), server.keys().pos);
      c.get("/healthz");  // handshake first, so the POSTs really overlap
      ++ready;
      while (ready.load() < threads) std::this_thread::yield();
      responses[static_cast<std::size_t>(i)] = c.send("POST", "/v1/purchases", body, "race-key");
    });
  }
  for (auto& t : pool) t.join();
  int fresh = 0, replayed = 0, in_flight = 0;
  std::string created_body;
  for (const auto& r : responses) {
    INFO(r.status << " " << r.body);
    if (r.status == 201 && r.header("idempotent-replayed").empty()) {
      ++fresh;
      created_body = r.body;
    } else if (r.status == 201) {
      ++replayed;
    } else {
      CHECK(r.status == 409);
      CHECK(body_json(r)["code"] == "request_in_progress");
      ++in_flight;
    }
  }
  CHECK(fresh == 1);
  CHECK(fresh + replayed + in_flight == threads);
  for (const auto& r : responses) {
    if (r.status == 201) CHECK(r.body == created_body);
  }
  CHECK(read_db(server.db()).earn_entries_by_order["race-order"] == 1);
}

TEST_CASE("40 concurrent redemptions of 10 on 100 points: exactly 10 succeed, balance 0",
          "[e2e][concurrency]") {
  ApiServer server;
  Client admin(server.port(), server.keys().admin);
  enrol(admin, "spender");
  give_points(admin, "spender", 100);
  constexpr int threads = 40;
  std::vector<HttpResponse> responses(threads);
  std::vector<std::thread> pool;
  std::atomic<int> ready{0};
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      Client c(server.port(), server.keys().pos);
      c.get("/healthz");
      ++ready;
      while (ready.load() < threads) std::this_thread::yield();
      responses[static_cast<std::size_t>(i)] =
          c.send("POST", "/v1/redemptions", json{{"member_id", "spender"}, {"points", 10}}.dump(),
                 "redeem-" + std::to_string(i));
    });
  }
  for (auto& t : pool) t.join();
  int ok = 0, refused = 0;
  for (const auto& r : responses) {
    INFO(r.status << " " << r.body);
    if (r.status == 201) {
      ++ok;
    } else {
      CHECK(r.status == 422);
      CHECK(body_json(r)["code"] == "insufficient_points");
      ++refused;
    }
  }
  CHECK(ok == 10);
  CHECK(refused == 30);
  const auto balance = body_json(admin.get("/v1/members/spender/balance"));
  CHECK(balance["balance"] == 0);
  CHECK(balance["available"] == 0);
  CHECK(read_db(server.db()).balance_of("spender") == 0);
}

TEST_CASE("idempotency records past their retention are forgotten, younger ones kept",
          "[e2e][idempotency]") {
  // SPEC 5 keeps keys at least 30 days; the server purges records older than
  // idempotency_retention_days (default 31) at start and every hour, so the table stops growing.
  ApiServer server;
  Client pos(server.port(), server.keys().pos);
  const std::string old_key = unique_key("old");
  const std::string young_key = unique_key("young");
  const json old_body = {{"member_id", "retention-old"}};
  REQUIRE(pos.send("POST", "/v1/members", old_body.dump(), old_key).status == 201);
  REQUIRE(pos.send("POST", "/v1/members", json{{"member_id", "retention-young"}}.dump(), young_key)
              .status == 201);
  REQUIRE(server.process().terminate() == 0);
  {
    // Age the records as if they had been written 32 and 29 days ago.
    SQLite::Database db(server.db(), SQLite::OPEN_READWRITE);
    SQLite::Statement age(db,
                          "UPDATE idempotency SET created_at = created_at - ? * 86400 "
                          "WHERE idem_key = ?");
    for (const auto& [key, days] : {std::pair{old_key, 32}, std::pair{young_key, 29}}) {
      age.bind(1, days);
      age.bind(2, key);
      REQUIRE(age.exec() == 1);
      age.reset();
    }
  }
  server.restart();
  REQUIRE(server.process().wait_for_output("purged idempotency records", std::chrono::seconds(20)));
  CHECK(server.process().output().find("\"records\":1") != std::string::npos);
  {
    SQLite::Database db(server.db(), SQLite::OPEN_READONLY);
    auto count = [&](const std::string& key) {
      SQLite::Statement q(db, "SELECT COUNT(*) FROM idempotency WHERE idem_key = ?");
      q.bind(1, key);
      REQUIRE(q.executeStep());
      return q.getColumn(0).getInt();
    };
    CHECK(count(old_key) == 0);
    CHECK(count(young_key) == 1);
  }
  // The young key still replays; the forgotten one runs as a new request (the member exists).
  Client again(server.port(), server.keys().pos);
  const auto young =
      again.send("POST", "/v1/members", json{{"member_id", "retention-young"}}.dump(), young_key);
  CHECK(young.header("idempotent-replayed") == "true");
  const auto old = again.send("POST", "/v1/members", old_body.dump(), old_key);
  CHECK(old.header("idempotent-replayed").empty());
  CHECK(old.status == 409);
}
