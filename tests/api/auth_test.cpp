// KeyCache (api/auth.h): bearer keys, checked against the hashed key table, with a per-thread
// memo of the last accepted header. The memo must never outlive a revocation or answer for a
// different key or a different cache.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <thread>

#include "api/auth.h"
#include "ledger/api_keys.h"
#include "ledger/clock.h"
#include "ledger/store.h"

using namespace encore;
using namespace encore::api;

namespace {

struct KeyDb {
  KeyDb() {
    std::string pattern = (std::filesystem::temp_directory_path() / "encore-auth-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    dir = pattern;
    path = (dir / "encore.db").string();
    store = open_sqlite_store(path, OpenMode::read_write);
    auto program = Program::load(ENCORE_REPO_DIR "/examples/program.json");
    REQUIRE(program);
    ledger = Ledger::open(path, std::move(program).value(), clock);
  }
  ~KeyDb() {
    ledger.reset();
    store.reset();
    std::filesystem::remove_all(dir);
  }
  std::string create(Role role, const std::string& name) {
    auto key = create_api_key(*store, role, name, clock.now());
    REQUIRE(key);
    return "Bearer " + key->key;
  }

  SystemClock clock;
  std::filesystem::path dir;
  std::string path;
  std::unique_ptr<Store> store;
  std::unique_ptr<Ledger> ledger;
};

}  // namespace

TEST_CASE("an accepted key stops working at the next reload after it is revoked", "[auth]") {
  KeyDb db;
  const auto pos = db.create(Role::pos, "till-1");
  const auto app = db.create(Role::app, "app-1");
  KeyCache keys(*db.ledger, std::chrono::milliseconds(50));

  // Accepted repeatedly (the second and later answers come from the per-thread memo).
  for (int i = 0; i < 3; ++i) {
    auto who = keys.authenticate(pos);
    REQUIRE(who);
    CHECK(who->name == "till-1");
    CHECK(who->role == Role::pos);
  }
  // Another key on the same thread is looked up, not answered from the memo.
  auto other = keys.authenticate(app);
  REQUIRE(other);
  CHECK(other->name == "app-1");
  CHECK(other->role == Role::app);
  CHECK(keys.authenticate(pos)->name == "till-1");
  // A header that differs from the memo only in its last character is refused.
  auto near_miss = pos;
  near_miss.back() = near_miss.back() == '0' ? '1' : '0';
  CHECK_FALSE(keys.authenticate(near_miss));
  CHECK_FALSE(keys.authenticate(pos + "0"));

  REQUIRE(revoke_api_key(*db.store, "till-1", db.clock.now()));
  std::this_thread::sleep_for(std::chrono::milliseconds(120));  // past the refresh interval
  CHECK_FALSE(keys.authenticate(pos));
  CHECK(keys.authenticate(app));  // the other key still works
}

TEST_CASE("a key accepted by one cache is not accepted by another that lacks it", "[auth]") {
  KeyDb first;
  KeyDb second;
  const auto key = first.create(Role::admin, "admin-1");
  KeyCache first_keys(*first.ledger);
  REQUIRE(first_keys.authenticate(key));
  // Same thread, same header, a different cache (another database): not in its table.
  KeyCache second_keys(*second.ledger);
  CHECK_FALSE(second_keys.authenticate(key));
  CHECK(first_keys.authenticate(key));
}
