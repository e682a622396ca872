// bench_seed: fills a fresh database for the HTTP load runs (bench/run-api-bench.sh).
//
//   bench_seed --db PATH --program examples/program.json [--members 100000] [--batch 5000]
//
// Creates members m000000.. (each with one purchase, so balances, lots and orders exist) and five
// "hot" members h0..h4 with 1,000,000 points each, all through Ledger::write_batch in large
// batches (group commit), then creates a pos API key and prints the secret on stdout.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ledger/api_keys.h"
#include "ledger/ledger.h"

namespace {

std::string member_id(long n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "m%06ld", n);
  return buf;
}

template <class T>
void require_ok(const encore::Result<T>& r, std::string_view what) {
  if (!r) {
    throw std::runtime_error(std::string(what) + ": " + r.error().field + ": " + r.error().detail);
  }
}

int usage() {
  std::fputs("usage: bench_seed --db PATH --program PATH [--members N] [--batch N]\n", stderr);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace encore;
  std::string db;
  std::string program_path = "examples/program.json";
  long members = 100'000;
  long batch = 5'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    if (flag == "--db") {
      db = argv[i + 1];
    } else if (flag == "--program") {
      program_path = argv[i + 1];
    } else if (flag == "--members") {
      members = std::atol(argv[i + 1]);
    } else if (flag == "--batch") {
      batch = std::atol(argv[i + 1]);
    } else {
      return usage();
    }
  }
  if (db.empty() || members < 1 || batch < 1 || argc % 2 == 0) return usage();
  try {
    auto program = Program::load(program_path);
    require_ok(program, "program");
    SystemClock clock;
    const auto start = std::chrono::steady_clock::now();
    {
      auto ledger = Ledger::open(db, std::move(program).value(), clock);
      const Actor actor{"admin:bench-seed"};
      for (long first = 0; first < members; first += batch) {
        const long last = std::min(members, first + batch);
        ledger->write_batch([&](Writer& w) {
          for (long n = first; n < last; ++n) {
            EnrolRequest enrol;
            enrol.member_id = member_id(n);
            require_ok(w.enrol(enrol, actor), "enrol");
            PurchaseRequest purchase;
            purchase.member_id = enrol.member_id;
            purchase.order_id = "seed-" + enrol.member_id;
            purchase.amount_minor = 500 + (n % 100) * 100;
            purchase.currency = "EUR";
            require_ok(w.purchase(purchase, actor), "purchase");
          }
        });
      }
      ledger->write_batch([&](Writer& w) {
        for (int h = 0; h < 5; ++h) {
          EnrolRequest enrol;
          enrol.member_id = "h" + std::to_string(h);
          require_ok(w.enrol(enrol, actor), "enrol hot");
          require_ok(w.adjust(AdjustRequest{enrol.member_id, 1'000'000, "bench hot member"}, actor),
                     "adjust hot");
        }
      });
    }
    // The ledger is closed: one read-write store creates the key (like `encore-admin keys create`).
    auto store = open_sqlite_store(db, OpenMode::read_write);
    store->begin_write();
    auto key = create_api_key(*store, Role::pos, "bench-pos", clock.now());
    require_ok(key, "api key");
    store->commit();
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fprintf(stderr, "seeded %ld members (+5 hot) in %.1f s\n", members, seconds);
    std::printf("%s\n", key->key.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_seed: %s\n", e.what());
    return 1;
  }
}
