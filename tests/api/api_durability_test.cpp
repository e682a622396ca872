// Durability under shutdown and crash (SPEC 5): SIGTERM drains in-flight writes, and a kill -9
// during a retrying load loses no acknowledged write and doubles none.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "ledger/verify.h"
#include "tests/api/api_fixture.h"

using namespace encore::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json purchase(const std::string& member, const std::string& order) {
  return {{"member_id", member}, {"order_id", order}, {"amount_minor", 1234}, {"currency", "EUR"}};
}

}  // namespace

TEST_CASE("SIGTERM during a stream of purchases: every 2xx is in the db, exit status 0",
          "[e2e][durability]") {
  ApiServer server;
  Client admin(server.port(), server.keys().admin);
  constexpr int writers = 4;
  for (int t = 0; t < writers; ++t) {
    REQUIRE(admin.post("/v1/members", {{"member_id", "drain-" + std::to_string(t)}}).status == 201);
  }
  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::atomic<int> acks{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  const auto port = server.port();
  for (int t = 0; t < writers; ++t) {
    pool.emplace_back([&, t] {
      Client c(port, server.keys().pos);
      for (int i = 0; i < 2000 && !stop; ++i) {
        const std::string order = "drain-" + std::to_string(t) + "-" + std::to_string(i);
        try {
          const auto res = c.send("POST", "/v1/purchases",
                                  purchase("drain-" + std::to_string(t), order).dump(), order);
          if (res.status >= 200 && res.status < 300) {
            std::lock_guard lock(mutex);
            acknowledged.insert(order);
            ++acks;
          }
        } catch (const std::exception&) {
          return;  // the server closed the connection: it is shutting down
        }
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (acks < 20 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  REQUIRE(acks >= 20);
  const int status = server.process().terminate(30'000ms);
  stop = true;
  for (auto& t : pool) t.join();
  CHECK(status == 0);
  const auto facts = read_db(server.db());
  INFO(acknowledged.size() << " acknowledged");
  for (const auto& order : acknowledged) {
    INFO(order);
    auto it = facts.earn_entries_by_order.find(order);
    REQUIRE(it != facts.earn_entries_by_order.end());
    CHECK(it->second == 1);
  }
  for (const auto& [order, count] : facts.earn_entries_by_order) CHECK(count == 1);
  const auto report = encore::verify_ledger(server.db());
  INFO(report.first_mismatch);
  CHECK(report.ok);
}

TEST_CASE("kill -9 during a retrying load: every acknowledged order exists exactly once",
          "[e2e][durability]") {
  ApiServer server;
  Client admin(server.port(), server.keys().admin);
  constexpr int writers = 4;
  constexpr int orders_per_writer = 25;
  for (int t = 0; t < writers; ++t) {
    REQUIRE(admin.post("/v1/members", {{"member_id", "crash-" + std::to_string(t)}}).status == 201);
  }
  std::atomic<std::uint16_t> port{server.port()};
  std::atomic<int> acks{0};
  std::mutex mutex;
  std::vector<std::string> acknowledged;
  std::vector<std::string> failures;
  std::vector<std::thread> pool;
  const std::string pos_key = server.keys().pos;
  for (int t = 0; t < writers; ++t) {
    pool.emplace_back([&, t] {
      const std::string member = "crash-" + std::to_string(t);
      std::uint16_t used_port = port;
      auto client = std::make_unique<Client>(used_port, pos_key);
      for (int i = 0; i < orders_per_writer; ++i) {
        const std::string order = member + "-" + std::to_string(i);
        const std::string body = purchase(member, order).dump();
        const auto give_up = std::chrono::steady_clock::now() + 60s;
        while (true) {
          if (port != used_port) {
            used_port = port;
            client = std::make_unique<Client>(used_port, pos_key);
          }
          std::optional<HttpResponse> res;
          try {
            res = client->send("POST", "/v1/purchases", body, "idem-" + order);
          } catch (const std::exception&) {
            // Network error: retry with the same key, as a POS does.
          }
          if (res && res->status == 201) {
            std::lock_guard lock(mutex);
            acknowledged.push_back(order);
            ++acks;
            break;
          }
          if (res && res->status != 409 && res->status != 503) {
            std::lock_guard lock(mutex);
            failures.push_back(order + ": " + std::to_string(res->status) + " " + res->body);
            break;
          }
          if (std::chrono::steady_clock::now() > give_up) {
            std::lock_guard lock(mutex);
            failures.push_back(order + ": gave up");
            break;
          }
          std::this_thread::sleep_for(20ms);
        }
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (acks < 20 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(2ms);
  REQUIRE(acks >= 20);
  server.process().kill9();
  const int acked_at_kill = acks;
  server.restart();
  port = server.port();
  for (auto& t : pool) t.join();
  INFO("acknowledged before the kill: " << acked_at_kill);
  for (const auto& f : failures) FAIL_CHECK(f);
  CHECK(acknowledged.size() == writers * orders_per_writer);
  CHECK(acked_at_kill < writers * orders_per_writer);  // the kill really hit mid-load
  REQUIRE(server.process().terminate() == 0);
  const auto facts = read_db(server.db());
  for (const auto& order : acknowledged) {
    INFO(order);
    auto it = facts.earn_entries_by_order.find(order);
    REQUIRE(it != facts.earn_entries_by_order.end());
    CHECK(it->second == 1);
  }
  CHECK(facts.earn_entries_by_order.size() == acknowledged.size());
  for (int t = 0; t < writers; ++t) {
    // 12 points per purchase, plus the program's one-time second-visit bonus.
    CHECK(facts.balance_of("crash-" + std::to_string(t)) == orders_per_writer * 12 + 200);
  }
  const auto report = encore::verify_ledger(server.db());
  INFO(report.first_mismatch);
  CHECK(report.ok);
}
