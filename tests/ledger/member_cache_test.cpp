// MemberCache's exactness rules (ledger/member_cache.h), and the ledger serving reads from it.
#include "ledger/member_cache.h"

#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/ledger/ledger_fixture.h"

using namespace encore;
using encore::test::at;
using encore::test::LedgerFixture;

namespace {

MemberState state_of(const std::string& id, Points balance) {
  MemberState s;
  s.row.member_id = id;
  s.row.balance = balance;
  s.orders_after = TimePoint{};
  return s;
}

}  // namespace

TEST_CASE("member cache: a published state is found; a reader's offer never replaces it",
          "[cache]") {
  MemberCache cache(1024);
  CHECK(cache.find("m1") == nullptr);
  cache.publish({state_of("m1", 10)}, {});
  REQUIRE(cache.find("m1") != nullptr);
  CHECK(cache.find("m1")->row.balance == 10);
  // An offer for a present member is refused: the cached one is as new or newer.
  CHECK_FALSE(cache.insert_if_absent(state_of("m1", 99), cache.committed_seq()));
  CHECK(cache.find("m1")->row.balance == 10);
  cache.publish({}, {"m1"});
  CHECK(cache.find("m1") == nullptr);
}

TEST_CASE("member cache: an offer read before a commit that touched the member is refused",
          "[cache]") {
  MemberCache cache(1024);
  const auto seen = cache.committed_seq();  // a reader opens its snapshot here...
  cache.publish({}, {"m1"});                // ...a commit changes m1 (state not staged)...
  CHECK_FALSE(cache.insert_if_absent(state_of("m1", 5), seen));  // ...its old copy is refused
  CHECK(cache.find("m1") == nullptr);
  // A reader that started after that commit may fill the cache.
  CHECK(cache.insert_if_absent(state_of("m1", 7), cache.committed_seq()));
  CHECK(cache.find("m1")->row.balance == 7);
}

TEST_CASE("member cache: bounded, and members too large to copy are not kept", "[cache]") {
  MemberCache cache(128);  // two per shard
  for (int i = 0; i < 1000; ++i) {
    cache.insert_if_absent(state_of("m" + std::to_string(i), i), cache.committed_seq());
  }
  CHECK(cache.stats().members <= 128);
  CHECK(cache.stats().members > 0);

  auto big = state_of("big", 1);
  big.lots.resize(MemberCache::max_items_per_member + 1);
  CHECK_FALSE(cache.insert_if_absent(big, cache.committed_seq()));
  auto unknown_orders = state_of("u", 1);
  unknown_orders.orders_after.reset();  // orders not loaded: qualifying needs a query
  CHECK_FALSE(cache.insert_if_absent(unknown_orders, cache.committed_seq()));
  MemberCache tiny(10);  // rounded up to one per shard, never silently off
  CHECK(tiny.capacity() == 64);
  CHECK(tiny.insert_if_absent(state_of("t", 1), tiny.committed_seq()));
  MemberCache off(0);
  CHECK_FALSE(off.insert_if_absent(state_of("m", 1), off.committed_seq()));
  off.publish({state_of("m", 1)}, {});
  CHECK(off.find("m") == nullptr);
}

TEST_CASE(
    "ledger with the cache: reads follow every write, the tier window slides, and a read "
    "with the clock set back falls back to the database",
    "[cache]") {
  LedgerFixture fx(
      test::make_program({{"tiers",
                           {{{"name", "base"}, {"threshold", 0}, {"multiplier_bp", 10000}},
                            {{"name", "silver"}, {"threshold", 50}, {"multiplier_bp", 10000}}}},
                          {"tier_window_days", 30}}));
  fx.enrol("c1");
  REQUIRE(fx.ledger->balance("c1")->balance == 0);
  REQUIRE(fx.buy("c1", "o1", 6000));  // 60 points
  auto b = fx.ledger->balance("c1");
  REQUIRE(b);
  CHECK(b->balance == 60);
  CHECK(b->qualifying_points == 60);
  CHECK(b->tier == "silver");
  const auto before = fx.ledger->cache_stats();
  CHECK(fx.ledger->balance("c1")->balance == 60);
  CHECK(fx.ledger->cache_stats().hits > before.hits);  // served from memory
  REQUIRE(fx.redeem("c1", 25));
  CHECK(fx.ledger->balance("c1")->balance == 35);
  // 31 days later the order has left the window: the cached orders say so without a query.
  fx.clock.advance(std::chrono::days{31});
  CHECK(fx.ledger->balance("c1")->qualifying_points == 0);
  // Back in time (a test clock): the cached window no longer covers it, the store answers.
  fx.clock.set(at("2025-12-01T00:00:00Z"));
  CHECK(fx.ledger->balance("c1")->qualifying_points == 0);
  CHECK(fx.ledger->balance("nobody").error().code == ErrorCode::not_found);
}

TEST_CASE(
    "ledger with the cache: concurrent readers during writes never see a balance that "
    "was not committed last",
    "[cache]") {
  LedgerFixture fx;
  fx.enrol("r1");
  REQUIRE(fx.buy("r1", "seed", 100000));  // 1000 points
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::atomic<Points> last_committed{1000};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const Points floor = last_committed.load();
        auto b = fx.ledger->balance("r1");
        // Balances only go down here; a read that starts after a commit was published may
        // never show more than that commit left.
        if (!b || b->balance > floor) bad.fetch_add(1);
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    REQUIRE(fx.redeem("r1", 1));
    last_committed.store(1000 - (i + 1));
  }
  stop = true;
  for (auto& r : readers) r.join();
  CHECK(bad.load() == 0);
  CHECK(fx.ledger->balance("r1")->balance == 800);
}

TEST_CASE("ledger cache warm-up loads existing members in the background, exactly", "[cache]") {
  const auto path = test::temp_db_path("warm");
  ManualClock clock(at("2026-01-10T12:00:00Z"));
  {
    auto cold = Ledger::open(path, test::make_program(), clock);
    for (int i = 0; i < 300; ++i) {
      const auto id = "w" + std::to_string(i);
      REQUIRE(cold->write([&](Writer& w) { return w.enrol(EnrolRequest{id}, Actor{"t"}); }));
      REQUIRE(cold->write([&](Writer& w) {
        return w.purchase(PurchaseRequest{id, "o" + std::to_string(i), 100 * (i + 1), "EUR"},
                          Actor{"t"});
      }));
    }
  }
  auto ledger = Ledger::open(path, test::make_program(), clock);
  ledger->enable_member_cache(1 << 16, true);
  ledger->start_cache_warmup();
  for (int i = 0; i < 500 && ledger->cache_stats().members < 300; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(ledger->cache_stats().members == 300);
  const auto before = ledger->cache_stats();
  auto b = ledger->balance("w41");
  REQUIRE(b);
  CHECK(b->balance == 42);
  CHECK(b->qualifying_points == 42);
  CHECK(ledger->cache_stats().hits == before.hits + 1);
  ledger.reset();
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}
