// Expiry runs and tier recomputes through the server run in pieces (submit_chunked_write), one
// write operation per `maintenance_chunk_members` members, so tills' writes go in between.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ledger/clock.h"
#include "ledger/time_zone.h"
#include "tests/api/api_fixture.h"

using namespace encore;
using namespace encore::test;
using nlohmann::json;

namespace {

// A server whose maintenance jobs commit every 2 members (set in a config file).
struct SmallPiecesServer {
  static std::string write_config() {
    const auto path = std::filesystem::temp_directory_path() /
                      ("encore-maint-" + std::to_string(::getpid()) + ".json");
    std::ofstream(path) << R"({"maintenance_chunk_members": 2})";
    return path.string();
  }
  std::string config = write_config();
  ApiServer server{{"--config", config}};
  ~SmallPiecesServer() { std::filesystem::remove(config); }
};

long long writer_jobs(Client& admin) {
  const auto metrics = admin.get("/metrics");
  REQUIRE(metrics.status == 200);
  const std::string name = "\nencore_write_jobs_total ";
  const auto at = metrics.body.find(name);
  REQUIRE(at != std::string::npos);
  return std::stoll(metrics.body.substr(at + name.size()));
}

}  // namespace

TEST_CASE("an expiry run commits in pieces and answers with the whole run's totals",
          "[e2e][maintenance]") {
  SmallPiecesServer fx;
  Client admin(fx.server.port(), fx.server.keys().admin);
  Client pos(fx.server.port(), fx.server.keys().pos);
  Client app(fx.server.port(), fx.server.keys().app);
  // Five members with a purchase posted late, 400 days ago: its points (fixed term, 365 days)
  // are already past their expiry, but no expire entry exists yet.
  const std::string long_ago = format_rfc3339(SystemClock{}.now() - std::chrono::days{400});
  for (int i = 1; i <= 5; ++i) {
    const std::string m = "late-" + std::to_string(i);
    ok_json(pos.post("/v1/members", {{"member_id", m}}), 201);
    ok_json(pos.post("/v1/purchases", {{"member_id", m},
                                       {"order_id", "late-order-" + std::to_string(i)},
                                       {"amount_minor", 1000 * i},
                                       {"currency", "EUR"},
                                       {"occurred_at", long_ago}}),
            201);
  }
  const json expected = {{"members", 5}, {"entries", 5}, {"points", 150}};

  auto jobs_before = writer_jobs(admin);
  auto dry = ok_json(admin.post("/v1/admin/expiry-runs", {{"dry_run", true}}), 200);
  // 2 + 2 + 1 members (the idempotency purger's start-up job is queued before the server
  // listens, so it never lands in this window).
  CHECK(writer_jobs(admin) - jobs_before == 3);
  CHECK(dry["dry_run"] == true);
  for (const auto& [field, value] : expected.items()) CHECK(dry[field] == value);

  const std::string key = unique_key("expiry");
  jobs_before = writer_jobs(admin);
  auto first = admin.send("POST", "/v1/admin/expiry-runs", std::nullopt, key);
  auto run = ok_json(first, 200);
  CHECK(writer_jobs(admin) - jobs_before == 3);
  CHECK(run["dry_run"] == false);
  for (const auto& [field, value] : expected.items()) CHECK(run[field] == value);
  // The record saved with the last piece answers a retry, byte for byte, without running again:
  // one writer job reads the record and answers (docs/api.md).
  jobs_before = writer_jobs(admin);
  auto replayed = admin.send("POST", "/v1/admin/expiry-runs", std::nullopt, key);
  CHECK(writer_jobs(admin) - jobs_before == 1);
  CHECK(replayed.status == 200);
  CHECK(replayed.header("idempotent-replayed") == "true");
  CHECK(replayed.body == first.body);
  // The same key with another body: 422, and the stored answer stays.
  auto reused = admin.send("POST", "/v1/admin/expiry-runs", R"({"dry_run": true})", key);
  CHECK(reused.status == 422);
  CHECK(body_json(reused)["code"] == "idempotency_key_reused");
  CHECK(admin.send("POST", "/v1/admin/expiry-runs", std::nullopt, key).body == first.body);

  const auto facts = read_db(fx.server.db());
  for (int i = 1; i <= 5; ++i) CHECK(facts.balance_of("late-" + std::to_string(i)) == 0);
  // Nothing is left to expire.
  auto again = ok_json(admin.post("/v1/admin/expiry-runs", json::object()), 200);
  CHECK(again["entries"] == 0);
}

TEST_CASE("a tier recompute commits in pieces of members", "[e2e][maintenance]") {
  SmallPiecesServer fx;
  Client admin(fx.server.port(), fx.server.keys().admin);
  Client pos(fx.server.port(), fx.server.keys().pos);
  for (int i = 1; i <= 5; ++i) {
    ok_json(pos.post("/v1/members", {{"member_id", "t-" + std::to_string(i)}}), 201);
  }
  const auto jobs_before = writer_jobs(admin);
  auto recompute = ok_json(admin.post("/v1/admin/tiers/recompute", json::object()), 200);
  // Pieces of 2, 2 and 1 members: the short last piece ends the walk.
  CHECK(writer_jobs(admin) - jobs_before == 3);
  CHECK(recompute["changed"] == 0);
}
