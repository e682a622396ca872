// Reminder planning at scale (SPEC 7): generates a database of N members and K open lots each
// (bulk SQL, not through the writer), then times one planning pass and one full run (plan +
// outbox insert). Usage:
//   reminders_bench [--members 1000000] [--lots-per-member 10] [--db PATH] [--reuse]
//                   [--chunk-rows 250]
#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "ledger/ledger.h"
#include "ledger/reminders.h"

using namespace encore;
using Steady = std::chrono::steady_clock;

namespace {

double seconds_since(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

Program bench_program() {
  nlohmann::json doc = {
      {"currency", "EUR"},
      {"timezone", "Europe/Paris"},
      {"earn", {{"points_per_unit", 1}, {"unit_minor", 100}}},
      {"expiry", {{"policy", "fixed_term"}, {"days", 365}}},
      {"reminders",
       {{"rules",
         {{{"id", "exp"}, {"kind", "expiring_soon"}, {"days_before", {30, 7}}, {"min_points", 100}},
          {{"id", "winback"}, {"kind", "dormant"}, {"days", 60}, {"min_points", 100}},
          {{"id", "second"}, {"kind", "second_purchase"}, {"days", 14}}}},
        {"templates",
         {{"en", {{"expiring_soon", "You have {expiring_points} points expiring on {expires_on}"}}},
          {"zh-CN", {{"expiring_soon", "您有{expiring_points}积分将于{expires_on}过期"}}}}},
        {"sink", {{"kind", "file"}, {"path", "bench.ndjson"}}}}}};
  return Program::parse(doc).value();
}

void generate(const std::string& path, long members, long lots_per_member, TimePoint now) {
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
                           "INSERT INTO members (member_id, locale, marketing_opt_in, enrolled_at, "
                           "balance, tier, tier_reached_at, first_purchase_at, last_purchase_at, "
                           "purchase_count, last_activity_at) VALUES (?,?,?,?,?,'base',?,?,?,?,?)");
  SQLite::Statement lot(db,
                        "INSERT INTO lots (member_id, entry_id, original, remaining, earned_at, "
                        "vests_at, expires_at, program_version) VALUES (?,0,?,?,?,?,?,'bench')");
  long lot_count = 0;
  for (long m = 0; m < members; ++m) {
    char id[32];
    std::snprintf(id, sizeof id, "m%08ld", m);
    const long last = t - uniform(0, 400) * day;
    const long count = uniform(1, 5);
    long balance = 0;
    for (long k = 0; k < lots_per_member; ++k) {
      const long earned = t - uniform(0, 364) * day;
      const long points = uniform(5, 80);
      lot.bind(1, id);
      lot.bind(2, static_cast<int64_t>(points));
      lot.bind(3, static_cast<int64_t>(points));
      lot.bind(4, static_cast<int64_t>(earned));
      lot.bind(5, static_cast<int64_t>(earned));
      lot.bind(6, static_cast<int64_t>(earned + 365 * day));
      lot.exec();
      lot.reset();
      balance += points;
      ++lot_count;
    }
    member.bind(1, id);
    member.bind(2, m % 5 == 0 ? "zh-CN" : "en");
    member.bind(3, m % 10 < 7 ? 1 : 0);  // 70% consent
    member.bind(4, static_cast<int64_t>(t - 500 * day));
    member.bind(5, static_cast<int64_t>(balance));
    member.bind(6, static_cast<int64_t>(t - 500 * day));
    member.bind(7, static_cast<int64_t>(last - (count - 1) * day));
    member.bind(8, static_cast<int64_t>(last));
    member.bind(9, static_cast<int64_t>(count));
    member.bind(10, static_cast<int64_t>(last));
    member.exec();
    member.reset();
  }
  tx.commit();
  db.exec("ANALYZE");
  std::printf("generated %ld members, %ld lots\n", members, lot_count);
}

}  // namespace

int main(int argc, char** argv) {
  long members = 1'000'000;
  long lots = 10;
  std::string path =
      (std::filesystem::temp_directory_path() / "encore-reminders-bench.db").string();
  bool reuse = false;
  ReminderRunOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--members" && i + 1 < argc)
      members = std::atol(argv[++i]);
    else if (a == "--lots-per-member" && i + 1 < argc)
      lots = std::atol(argv[++i]);
    else if (a == "--db" && i + 1 < argc)
      path = argv[++i];
    else if (a == "--reuse")
      reuse = true;
    else if (a == "--chunk-rows" && i + 1 < argc && std::atol(argv[i + 1]) > 0)
      options.rows_per_transaction = static_cast<std::size_t>(std::atol(argv[++i]));
    else {
      std::fprintf(
          stderr,
          "usage: reminders_bench [--members N] [--lots-per-member K] [--db PATH] [--reuse] "
          "[--chunk-rows N]\n");
      return 2;
    }
  }
  const TimePoint now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  if (!reuse) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
    auto start = Steady::now();
    generate(path, members, lots, now);
    std::printf("generation: %.1f s\n", seconds_since(start));
  }
  ManualClock clock(now);
  auto ledger = Ledger::open(path, bench_program(), clock);
  auto start = Steady::now();
  std::vector<ReminderRow> planned;
  ledger->with_reader([&](Store& s) { planned = plan_reminders(s, ledger->program(), now); });
  std::printf("plan (dry run): %zu reminders in %.2f s\n", planned.size(), seconds_since(start));
  start = Steady::now();
  // The writer is held during each chunk's transaction only: record how long each held it
  // (from the end of the previous chunk; the first one also includes the planning).
  std::vector<double> chunk_seconds;
  auto chunk_start = Steady::now();
  options.after_each_transaction = [&] {
    chunk_seconds.push_back(seconds_since(chunk_start));
    chunk_start = Steady::now();
  };
  auto run = run_reminder_planning(*ledger, options);
  std::printf("run (plan + outbox insert): %zu reminders in %.2f s\n", run.planned.size(),
              seconds_since(start));
  if (chunk_seconds.size() > 1) {
    chunk_seconds.erase(chunk_seconds.begin());  // the first also timed the planning
    std::sort(chunk_seconds.begin(), chunk_seconds.end());
    std::printf("  %zu chunks of %zu rows after the first: median %.1f ms, max %.1f ms\n",
                chunk_seconds.size(), options.rows_per_transaction,
                1000 * chunk_seconds[chunk_seconds.size() / 2], 1000 * chunk_seconds.back());
  }
  start = Steady::now();
  auto again = run_reminder_planning(*ledger);
  std::printf("second run the same day: %zu reminders in %.2f s\n", again.planned.size(),
              seconds_since(start));
  return 0;
}
