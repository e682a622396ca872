// End-to-end tests of encore-admin's server-backed commands (against the real encore-server) and
// of the offline `import`. Each runs the real binaries and checks stdout, stderr and exit codes.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "ledger/clock.h"
#include "ledger/ledger.h"
#include "ledger/program.h"
#include "ledger/store.h"
#include "tests/api/https_client.h"
#include "tests/api/server_process.h"
#include "tests/tools/admin_runner.h"

namespace fs = std::filesystem;
using encore::test::admin;
using encore::test::Run;
using encore::test::TempDir;
using nlohmann::json;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A running encore-server with an admin key made by `encore-admin init --json`.
struct ServerFixture {
  encore::test::ServerProcess server{
      encore::test::ServerOptions{{}, {}, ENCORE_PROGRAM, std::chrono::milliseconds(30'000)}};
  TempDir dir;
  std::string db = server.db_path().string();
  std::string key;
  std::string url = "https://127.0.0.1:" + std::to_string(server.port());

  ServerFixture() {
    auto init = admin(dir, {"--db", db, "init", "--json"});
    REQUIRE(init.code == 0);
    key = json::parse(init.out).at("key");
  }

  // A server-backed command, trusting the server's development certificate.
  Run run(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.end(), {"--ca-cert", db + ".dev-cert.pem"});
    for (std::string def : {"ENCORE_SERVER=" + url, "ENCORE_ADMIN_KEY=" + key}) {
      auto name = def.substr(0, def.find('=') + 1);
      bool overridden = false;
      for (const auto& e : env) overridden |= e.rfind(name, 0) == 0;
      if (!overridden) env.push_back(def);
    }
    return admin(dir, args, env);
  }

  json show(const std::string& member) {
    auto r = run({"members", "show", member, "--json"});
    REQUIRE(r.code == 0);
    return json::parse(r.out);
  }
};

}  // namespace

TEST_CASE("server-backed commands: enrol, show, adjust, reverse, expire, tiers, erase",
          "[admin][server]") {
  ServerFixture f;

  auto enrol = f.run({"members", "enrol", "m1", "--email", "ana@example.com", "--locale", "en",
                      "--opt-in", "--json"});
  REQUIRE(enrol.code == 0);
  CHECK(json::parse(enrol.out).at("email") == "ana@example.com");
  CHECK(f.run({"members", "enrol", "m1"}).code == 1);  // member_exists

  auto human = f.run({"members", "show", "m1"});
  REQUIRE(human.code == 0);
  CHECK(contains(human.out, "ana@example.com"));
  CHECK(contains(human.out, "available"));

  auto credit = f.run({"adjust", "m1", "100", "--reason", "goodwill", "--json"});
  REQUIRE(credit.code == 0);
  auto credit_id = json::parse(credit.out).at("entries").at(0).at("id").get<std::int64_t>();
  // A negative POINTS is a value, not an option.
  auto debit = f.run({"adjust", "m1", "-30", "--reason", "x"});
  REQUIRE(debit.code == 0);
  CHECK(contains(debit.out, "-30"));
  CHECK(f.show("m1").at("balance").at("balance") == 70);

  // --reason is required: usage error, nothing sent.
  auto no_reason = f.run({"adjust", "m1", "-20"});
  CHECK(no_reason.code == 2);
  CHECK(contains(no_reason.err, "--reason"));
  CHECK(f.run({"reverse", std::to_string(credit_id)}).code == 2);
  CHECK(f.run({"adjust", "m1", "abc", "--reason", "x"}).code == 2);
  CHECK(f.show("m1").at("balance").at("balance") == 70);

  // Reverse the -30 debit: the points come back.
  auto debit_id = credit_id + 1;
  auto reversed = f.run({"reverse", std::to_string(debit_id), "--reason", "posted twice"});
  REQUIRE(reversed.code == 0);
  CHECK(f.show("m1").at("balance").at("balance") == 100);
  auto again = f.run({"reverse", std::to_string(debit_id), "--reason", "again"});
  CHECK(again.code == 1);
  CHECK(contains(again.err, "already_reversed"));

  auto dry = f.run({"expire", "run", "--dry-run", "--json"});
  REQUIRE(dry.code == 0);
  auto dry_json = json::parse(dry.out);
  CHECK(dry_json.at("dry_run") == true);
  CHECK(dry_json.at("points") == 0);
  CHECK(f.run({"expire", "run", "--as-of", "2026-01-01", "--json"}).code == 0);
  CHECK(f.run({"expire", "run", "--as-of", "yesterday"}).code == 2);

  auto tiers = f.run({"tiers", "recompute", "--json"});
  REQUIRE(tiers.code == 0);
  CHECK(json::parse(tiers.out).contains("changed"));

  // Erase: reason required; contact data goes, the balance stays, and the ledger verifies.
  CHECK(f.run({"members", "erase", "m1"}).code == 2);
  CHECK(f.show("m1").at("member").at("email") == "ana@example.com");
  auto erased = f.run({"members", "erase", "m1", "--reason", "GDPR request 118"});
  REQUIRE(erased.code == 0);
  auto after = f.show("m1");
  CHECK(after.at("member").at("email").is_null());
  CHECK(after.at("balance").at("balance") == 100);
  {
    // The erasure is recorded with its reason and the admin key's name (the actor).
    SQLite::Database db(f.db, SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT actor, reason FROM member_erasures WHERE member_id = 'm1'");
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(1).getString() == "GDPR request 118");
    CHECK_FALSE(q.getColumn(0).getString().empty());
    CHECK_FALSE(q.executeStep());
  }
  auto verify = admin(f.dir, {"--db", f.db, "verify"});
  CHECK(verify.code == 0);
  CHECK(contains(verify.out, "OK:"));

  auto missing = f.run({"members", "show", "nobody"});
  CHECK(missing.code == 1);
  CHECK(contains(missing.err, "not_found"));
}

TEST_CASE("backup while purchases stream in: the copy is one consistent snapshot that verifies",
          "[admin][server][backup]") {
  ServerFixture f;
  const std::string auth = "Bearer " + f.key;
  constexpr int writers = 3;
  for (int t = 0; t < writers; ++t) {
    REQUIRE(f.run({"members", "enrol", "bk-" + std::to_string(t)}).code == 0);
  }
  std::mutex mutex;
  std::set<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  auto load = [&](int t) {
    encore::test::HttpsConnection conn(f.server.port());
    for (int i = 0; !stop.load(); ++i) {
      const std::string order = "bk-" + std::to_string(t) + "-" + std::to_string(i);
      json body = {{"member_id", "bk-" + std::to_string(t)},
                   {"order_id", order},
                   {"amount_minor", 2500},
                   {"currency", "EUR"}};
      auto res = conn.request({"POST",
                               "/v1/purchases",
                               {{"Authorization", auth},
                                {"Content-Type", "application/json"},
                                {"Idempotency-Key", order}},
                               body.dump()});
      if (res.status != 201) {
        failures.fetch_add(1);
        return;
      }
      std::lock_guard lock(mutex);
      acknowledged.insert(order);
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t) threads.emplace_back(load, t);
  // Let the load build up a database that takes several backup steps, then copy mid-stream.
  auto wait_until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  for (;;) {
    std::size_t n = 0;
    {
      std::lock_guard lock(mutex);
      n = acknowledged.size();
    }
    if (n >= 300 || failures.load() > 0 || std::chrono::steady_clock::now() > wait_until) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::set<std::string> before;
  {
    std::lock_guard lock(mutex);
    before = acknowledged;
  }
  auto copy = f.dir / "online.db";
  auto backup = admin(f.dir, {"--db", f.db, "backup", copy, "--json"});
  std::size_t during = 0;
  {
    std::lock_guard lock(mutex);
    during = acknowledged.size();
  }
  stop = true;
  for (auto& t : threads) t.join();
  REQUIRE(failures.load() == 0);
  REQUIRE(before.size() >= 300);
  INFO(backup.err);
  REQUIRE(backup.code == 0);
  auto report = json::parse(backup.out);
  CHECK(report.at("written") == true);
  CHECK(report.at("verify").at("ok") == true);
  CHECK(during > before.size());           // the load really ran while the copy was taken
  CHECK(fs::file_size(copy) > 64 * 4096);  // more than one backup step (64 pages each)
  // No progress bar when stderr is not a terminal.
  CHECK_FALSE(contains(backup.err, "copying pages"));

  // Every purchase acknowledged before the backup started is in the copy; the copy verifies again
  // on its own (also with the server's later writes going on in the original).
  SQLite::Database db(copy, SQLite::OPEN_READONLY);
  std::set<std::string> in_copy;
  SQLite::Statement q(db, "SELECT order_id FROM orders");
  while (q.executeStep()) in_copy.insert(q.getColumn(0).getString());
  for (const auto& order : before) {
    INFO(order);
    CHECK(in_copy.count(order) == 1);
  }
  CHECK(in_copy.size() <= during + writers);
  auto verify = admin(f.dir, {"--db", copy, "verify", "--json"});
  CHECK(verify.code == 0);
  CHECK(json::parse(verify.out).at("ok") == true);
}

TEST_CASE("server-backed commands: key, certificate and connection errors", "[admin][server]") {
  ServerFixture f;
  auto wrong = f.run({"members", "show", "m1"}, {"ENCORE_ADMIN_KEY=enc_admin_wrong"});
  CHECK(wrong.code == 1);
  CHECK(contains(wrong.err, "401"));
  CHECK(contains(wrong.err, "ENCORE_ADMIN_KEY"));

  auto pos =
      admin(f.dir, {"--db", f.db, "keys", "create", "--role", "pos", "--name", "p1", "--json"});
  REQUIRE(pos.code == 0);
  // The server sees a new key within 5 s.
  const std::string pos_key = json::parse(pos.out).at("key");
  Run forbidden;
  for (int i = 0; i < 40; ++i) {
    forbidden = f.run({"tiers", "recompute"}, {"ENCORE_ADMIN_KEY=" + pos_key});
    if (!contains(forbidden.err, "401")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  INFO(forbidden.err);
  CHECK(forbidden.code == 1);
  CHECK(contains(forbidden.err, "not an admin key"));

  // No --ca-cert: the self-signed certificate is refused, with the way out.
  auto untrusted = admin(f.dir, {"members", "show", "m1"},
                         {"ENCORE_SERVER=" + f.url, "ENCORE_ADMIN_KEY=" + f.key});
  CHECK(untrusted.code == 1);
  CHECK(contains(untrusted.err, "--ca-cert"));
  CHECK(contains(untrusted.err, "--insecure"));
  CHECK(admin(f.dir, {"members", "show", "nobody", "--insecure"},
              {"ENCORE_SERVER=" + f.url, "ENCORE_ADMIN_KEY=" + f.key})
            .code == 1);  // reached the server: 404

  auto no_key = admin(f.dir, {"tiers", "recompute", "--insecure"}, {"ENCORE_SERVER=" + f.url});
  CHECK(no_key.code == 1);
  CHECK(contains(no_key.err, "ENCORE_ADMIN_KEY is not set"));

  auto http = f.run({"tiers", "recompute"}, {"ENCORE_SERVER=http://127.0.0.1:1"});
  CHECK(http.code == 2);
  CHECK(contains(http.err, "https://"));
}

TEST_CASE("server-backed commands: an unreachable server exits 1 with a hint", "[admin][server]") {
  TempDir dir;
  // Nothing listens on the discard port.
  auto r = admin(dir, {"adjust", "m1", "5", "--reason", "x", "--server", "https://127.0.0.1:9"},
                 {"ENCORE_ADMIN_KEY=enc_admin_x"});
  CHECK(r.code == 1);
  CHECK(contains(r.err, "cannot reach https://127.0.0.1:9"));
  CHECK(contains(r.err, "is encore-server running"));

  auto help = admin(dir, {"adjust", "--help"});
  CHECK(help.code == 0);
  CHECK(contains(help.out, "encore-admin adjust card:6001 -50 --reason"));
  for (auto cmd : {std::vector<std::string>{"members", "show", "--help"},
                   {"members", "enrol", "--help"},
                   {"members", "erase", "--help"},
                   {"reverse", "--help"},
                   {"expire", "run", "--help"},
                   {"tiers", "recompute", "--help"},
                   {"import", "--help"}}) {
    auto h = admin(dir, cmd);
    CHECK(h.code == 0);
    CHECK(contains(h.out, "Example"));
  }
}

// ---------------------------------------------------------------------------------------------
// import

namespace {

struct ImportFixture {
  TempDir dir;
  std::string db = dir / "encore.db";
  ImportFixture() { REQUIRE(admin(dir, {"--db", db, "init"}).code == 0); }

  Run import(const std::string& content, const std::string& name,
             std::vector<std::string> extra = {}) {
    std::ofstream(dir / name, std::ios::binary) << content;
    std::vector<std::string> args{"--db", db, "import", name, "--program", ENCORE_PROGRAM};
    args.insert(args.end(), extra.begin(), extra.end());
    return admin(dir, args);
  }

  std::unique_ptr<encore::Ledger> ledger() {
    static encore::SystemClock clock;
    auto program = encore::Program::load(ENCORE_PROGRAM);
    REQUIRE(program.ok());
    return encore::Ledger::open(db, std::move(*program), clock);
  }

  std::int64_t members() {
    auto store = encore::open_sqlite_store(db, encore::OpenMode::read_only);
    return store->ledger_totals().members;
  }
};

const char* valid_ndjson =
    R"({"type":"member","member_id":"legacy:1","email":"ana@example.com","locale":"en","marketing_opt_in":true,"enrolled_at":"2025-01-10T09:00:00Z"}
{"type":"member","member_id":"legacy:2"}
{"type":"balance","member_id":"legacy:1","points":300,"earned_at":"2026-06-01T10:00:00Z","reason":"legacy balance"}
{"type":"balance","member_id":"legacy:1","points":200,"earned_at":"2026-07-01T10:00:00Z","expires_at":"2027-03-31T22:00:00Z"}

{"type":"balance","member_id":"legacy:2","points":50,"earned_at":"2026-09-15T00:00:00+02:00"}
)";

}  // namespace

TEST_CASE("import: a valid NDJSON file", "[admin][import]") {
  ImportFixture f;
  const auto started = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  auto r = f.import(valid_ndjson, "legacy.ndjson", {"--json"});
  INFO(r.err);
  REQUIRE(r.code == 0);
  auto summary = json::parse(r.out);
  CHECK(summary.at("members") == 2);
  CHECK(summary.at("balances") == 3);
  CHECK(summary.at("points") == 550);

  auto ledger = f.ledger();
  auto m1 = ledger->member("legacy:1");
  REQUIRE(m1.ok());
  CHECK(m1->email == std::optional<std::string>("ana@example.com"));
  CHECK(m1->marketing_opt_in);
  CHECK(m1->balance == 500);
  auto b2 = ledger->balance("legacy:2");
  REQUIRE(b2.ok());
  CHECK(b2->balance == 50);
  auto page = ledger->entries("legacy:1", std::nullopt, 10);
  REQUIRE(page.ok());
  REQUIRE(page->entries.size() == 2);
  for (const auto& e : page->entries) {
    CHECK(e.actor == "import");
    CHECK(e.reason.value_or("").rfind("import: ", 0) == 0);
    // Business time is the legacy earned_at; recorded_at is when the import ran (SPEC 2).
    CHECK(e.recorded_at >= started);
    CHECK(e.occurred_at < started);
  }
  // The explicit expires_at is kept (2027-03-31 in the program's zone, Europe/Paris).
  auto b1 = ledger->balance("legacy:1");
  REQUIRE(b1.ok());
  bool found = false;
  for (const auto& x : b1->expiring) found |= x.points == 200;
  CHECK(found);
  ledger.reset();

  auto verify = admin(f.dir, {"--db", f.db, "verify"});
  CHECK(verify.code == 0);

  // Importing the same members again is refused (already in the database), nothing written.
  auto again = f.import(valid_ndjson, "legacy.ndjson");
  CHECK(again.code == 1);
  CHECK(contains(again.err, "row 1: member_id"));
  CHECK(contains(again.err, "already in the database"));
  CHECK(f.members() == 2);
}

TEST_CASE("import: a valid CSV file", "[admin][import]") {
  ImportFixture f;
  std::string csv =
      "type,member_id,email,phone,locale,marketing_opt_in,points,earned_at,expires_at,reason\r\n"
      "member,c1,bo@example.com,+33123456789,fr,false,,,,\r\n"
      "balance,c1,,,,,120,2026-05-01T08:00:00Z,,\"legacy, \"\"gold\"\" card\"\r\n"
      "member,c2,,,,,,,,\r\n"
      "balance,c2,,,,,7,2026-10-01T08:00:00Z,2027-01-01T00:00:00Z,\r\n";
  auto r = f.import(csv, "legacy.csv");
  INFO(r.err);
  REQUIRE(r.code == 0);
  CHECK(contains(r.out, "Imported 2 members and 2 opening balance lots (127 points)"));
  auto ledger = f.ledger();
  CHECK(ledger->balance("c1")->balance == 120);
  CHECK(ledger->balance("c2")->balance == 7);
  CHECK(ledger->member("c1")->phone == std::optional<std::string>("+33123456789"));
  auto page = ledger->entries("c1", std::nullopt, 10);
  REQUIRE(page.ok());
  CHECK(page->entries.at(0).reason == std::optional<std::string>("import: legacy, \"gold\" card"));
  ledger.reset();
  CHECK(admin(f.dir, {"--db", f.db, "verify"}).code == 0);
}

TEST_CASE("import: one bad row writes nothing", "[admin][import]") {
  ImportFixture f;
  std::string bad =
      "{\"type\":\"member\",\"member_id\":\"m1\"}\n"
      "{\"type\":\"member\",\"member_id\":\"m2\"}\n"
      "{\"type\":\"balance\",\"member_id\":\"m1\",\"points\":-5,\"earned_at\":\"2026-01-01T00:00:"
      "00Z\"}\n"
      "{\"type\":\"balance\",\"member_id\":\"m2\",\"points\":5,\"earned_at\":\"2026-01-01T00:00:"
      "00Z\"}\n";
  auto r = f.import(bad, "bad.ndjson");
  CHECK(r.code == 1);
  CHECK(contains(r.err, "row 3: points"));
  CHECK(contains(r.err, "nothing was imported"));
  CHECK(!contains(r.err, "row 1"));
  CHECK(!contains(r.err, "row 4"));
  CHECK(f.members() == 0);

  // Every kind of error is listed with its row and field.
  std::string many =
      "{\"type\":\"member\",\"member_id\":\"m1\"}\n"      // 1 ok
      "{\"type\":\"member\",\"member_id\":\"m1\"}\n"      // 2 duplicate
      "{\"type\":\"member\",\"member_id\":\"bad id\"}\n"  // 3 format
      "{\"type\":\"balance\",\"member_id\":\"ghost\",\"points\":5,\"earned_at\":\"2026-01-01T00:00:"
      "00Z\"}\n"                                                                                // 4
      "{\"type\":\"balance\",\"member_id\":\"m1\",\"points\":5,\"earned_at\":\"yesterday\"}\n"  // 5
      "{\"type\":\"member\",\"member_id\":\n"  // 6 JSON
      "{\"type\":\"balance\",\"member_id\":\"m1\",\"points\":1.5,\"earned_at\":\"2026-01-01T00:00:"
      "00Z\"}\n"                                                                  // 7
      "{\"type\":\"refund\",\"member_id\":\"m1\"}\n"                              // 8 type
      "{\"type\":\"member\",\"member_id\":\"m9\",\"email\":\"not-an-email\"}\n";  // 9
  auto m = f.import(many, "many.ndjson", {"--json"});
  CHECK(m.code == 1);
  for (auto needle :
       {"row 2: member_id: duplicate", "row 3: member_id", "row 4: member_id: unknown member",
        "row 5: earned_at", "row 6: is not well-formed JSON", "row 7: points", "row 8: type",
        "row 9: email"}) {
    INFO(needle);
    CHECK(contains(m.err, needle));
  }
  CHECK(!contains(m.err, "row 1:"));
  auto report = json::parse(m.out);
  CHECK(report.at("ok") == false);
  CHECK(report.at("error_count") == 8);
  CHECK(f.members() == 0);

  // CSV: the row number is the line of the file (the header is row 1).
  std::string csv =
      "type,member_id,email,phone,locale,marketing_opt_in,points,earned_at,expires_at,reason\n"
      "member,c1,,,,,,,,\n"
      "balance,c1,,,,,-5,2026-01-01T00:00:00Z,,\n";
  auto c = f.import(csv, "bad.csv");
  CHECK(c.code == 1);
  CHECK(contains(c.err, "row 3: points"));
  CHECK(f.members() == 0);

  // More than 100 errors: the first 100 are listed.
  std::string lots;
  for (int i = 0; i < 150; ++i) lots += "{\"type\":\"member\",\"member_id\":\"\"}\n";
  auto capped = f.import(lots, "capped.ndjson");
  CHECK(capped.code == 1);
  CHECK(contains(capped.err, "has 150 errors (the first 100 are listed)"));
  CHECK(contains(capped.err, "row 100: member_id"));
  CHECK(!contains(capped.err, "row 101: member_id"));
}

TEST_CASE("import: refused while the server lock is held", "[admin][import]") {
  ImportFixture f;
  int fd = ::open((f.db + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  auto r = f.import(valid_ndjson, "legacy.ndjson");
  CHECK(r.code == 1);
  CHECK(contains(r.err, "database is held by a running encore-server"));
  ::close(fd);
  CHECK(f.members() == 0);
  CHECK(f.import(valid_ndjson, "legacy.ndjson").code == 0);
  CHECK(f.members() == 2);

  CHECK(f.import("x", "x.ndjson", {"--format", "xml"}).code == 2);
}
