// The reports of SPEC 8 at scale: generates a database of N members with open lots, orders and
// their earn entries (bulk SQL, not through the writer), then times each report (median of
// --rounds runs, each in one read snapshot, as the server and CLI run them). Usage:
//   reports_bench [--members 1000000] [--db PATH] [--reuse] [--rounds 3]
#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/reports.h"

using namespace encore;
using Steady = std::chrono::steady_clock;

namespace {

double seconds_since(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

Program bench_program() {
  nlohmann::json doc = {{"currency", "EUR"},
                        {"timezone", "Europe/Paris"},
                        {"earn", {{"points_per_unit", 1}, {"unit_minor", 100}}},
                        {"expiry", {{"policy", "fixed_term"}, {"days", 365}}}};
  return Program::parse(doc).value();
}

// Per member: 1-5 orders over the last 400 days, each with its earn entry and its lot (still
// open unless older than a year: then expired, not yet posted); one member in 20 holds points.
void generate(const std::string& path, long members, TimePoint now) {
  open_sqlite_store(path, OpenMode::read_write);  // creates the schema
  SQLite::Database db(path, SQLite::OPEN_READWRITE);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA synchronous = OFF");
  db.exec("PRAGMA cache_size = -262144");
  std::mt19937_64 rng(42);
  auto uniform = [&](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  const long t = now.time_since_epoch().count();
  const long day = 86'400;
  SQLite::Transaction tx(db);
  SQLite::Statement member(db,
                           "INSERT INTO members (member_id, enrolled_at, balance, tier, "
                           "tier_reached_at, first_purchase_at, last_purchase_at, purchase_count, "
                           "last_activity_at) VALUES (?,?,?,'base',?,?,?,?,?)");
  SQLite::Statement order(db,
                          "INSERT INTO orders (order_id, member_id, amount_minor, currency, "
                          "occurred_at, base_points, earned_points) VALUES (?,?,?,'EUR',?,?,?)");
  SQLite::Statement entry(db,
                          "INSERT INTO entries (member_id, kind, points, occurred_at, recorded_at, "
                          "order_id, actor, hash) VALUES (?,'earn',?,?,?,?,'bench',zeroblob(32))");
  SQLite::Statement lot(db,
                        "INSERT INTO lots (member_id, entry_id, original, remaining, earned_at, "
                        "vests_at, expires_at, program_version) VALUES (?,?,?,?,?,?,?,'bench')");
  SQLite::Statement hold(db,
                         "INSERT INTO holds (hold_id, member_id, points, state, created_at, "
                         "expires_at) VALUES (?,?,?,'open',?,?)");
  long order_count = 0;
  for (long m = 0; m < members; ++m) {
    char id[32];
    std::snprintf(id, sizeof id, "m%08ld", m);
    const long count = uniform(1, 5);
    long balance = 0, first = t, last = 0;
    std::vector<long> times;
    for (long k = 0; k < count; ++k) times.push_back(t - uniform(0, 400) * day);
    std::sort(times.begin(), times.end());
    for (const long at : times) {
      const long amount = uniform(500, 20'000);
      const long points = amount / 100;
      char oid[32];
      std::snprintf(oid, sizeof oid, "o%09ld", order_count++);
      order.bind(1, oid);
      order.bind(2, id);
      order.bind(3, static_cast<int64_t>(amount));
      order.bind(4, static_cast<int64_t>(at));
      order.bind(5, static_cast<int64_t>(points));
      order.bind(6, static_cast<int64_t>(points));
      order.exec();
      order.reset();
      entry.bind(1, id);
      entry.bind(2, static_cast<int64_t>(points));
      entry.bind(3, static_cast<int64_t>(at));
      entry.bind(4, static_cast<int64_t>(at));
      entry.bind(5, oid);
      entry.exec();
      entry.reset();
      lot.bind(1, id);
      lot.bind(2, static_cast<int64_t>(db.getLastInsertRowid()));
      lot.bind(3, static_cast<int64_t>(points));
      lot.bind(4, static_cast<int64_t>(points));
      lot.bind(5, static_cast<int64_t>(at));
      lot.bind(6, static_cast<int64_t>(at));
      lot.bind(7, static_cast<int64_t>(at + 365 * day));
      lot.exec();
      lot.reset();
      balance += points;
      first = std::min(first, at);
      last = std::max(last, at);
    }
    if (m % 20 == 0) {
      hold.bind(1, std::string("h") + id);
      hold.bind(2, id);
      hold.bind(3, static_cast<int64_t>(1));
      hold.bind(4, static_cast<int64_t>(t));
      hold.bind(5, static_cast<int64_t>(t + 900));
      hold.exec();
      hold.reset();
    }
    member.bind(1, id);
    member.bind(2, static_cast<int64_t>(t - 500 * day));
    member.bind(3, static_cast<int64_t>(balance));
    member.bind(4, static_cast<int64_t>(t - 500 * day));
    member.bind(5, static_cast<int64_t>(first));
    member.bind(6, static_cast<int64_t>(last));
    member.bind(7, static_cast<int64_t>(count));
    member.bind(8, static_cast<int64_t>(last));
    member.exec();
    member.reset();
  }
  tx.commit();
  db.exec("ANALYZE");
  std::printf("generated %ld members, %ld orders\n", members, order_count);
}

double median_seconds(int rounds, const std::function<void()>& run) {
  std::vector<double> seconds;
  for (int i = 0; i < rounds; ++i) {
    const auto start = Steady::now();
    run();
    seconds.push_back(seconds_since(start));
  }
  std::sort(seconds.begin(), seconds.end());
  return seconds[seconds.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  long members = 1'000'000;
  int rounds = 3;
  std::string path = (std::filesystem::temp_directory_path() / "encore-reports-bench.db").string();
  bool reuse = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--members" && i + 1 < argc) {
      members = std::atol(argv[++i]);
    } else if (a == "--db" && i + 1 < argc) {
      path = argv[++i];
    } else if (a == "--reuse") {
      reuse = true;
    } else if (a == "--rounds" && i + 1 < argc && std::atoi(argv[i + 1]) > 0) {
      rounds = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr,
                   "usage: reports_bench [--members N] [--db PATH] [--reuse] [--rounds N]\n");
      return 2;
    }
  }
  const TimePoint now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  if (!reuse) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    const auto start = Steady::now();
    generate(path, members, now);
    std::printf("generation: %.1f s\n", seconds_since(start));
  }
  ManualClock clock(now);
  auto ledger = Ledger::open(path, bench_program(), clock);
  const Program& program = ledger->program();
  LiabilityReport liability;
  RepeatPurchaseReport repeat;
  RfmReport rfm;
  const double l = median_seconds(rounds, [&] {
    ledger->with_reader([&](Store& s) { liability = liability_report(s, program, now, 12); });
  });
  std::printf("liability: %.2f s (%lld members, outstanding %lld points, breakage %lld bp)\n", l,
              static_cast<long long>(liability.members),
              static_cast<long long>(liability.outstanding),
              static_cast<long long>(liability.breakage_bp.value_or(-1)));
  const double r = median_seconds(rounds, [&] {
    ledger->with_reader([&](Store& s) { repeat = repeat_purchase_report(s, program, now); });
  });
  std::printf("repeat-purchase: %.2f s (%lld purchasers, rate %lld bp, %zu cohorts)\n", r,
              static_cast<long long>(repeat.total.purchasers),
              static_cast<long long>(repeat.total.rate_bp.value_or(-1)), repeat.cohorts.size());
  const double f = median_seconds(
      rounds, [&] { ledger->with_reader([&](Store& s) { rfm = rfm_report(s, now); }); });
  std::printf("rfm: %.2f s (%lld purchasers)\n", f, static_cast<long long>(rfm.purchasers));
  return 0;
}
