// End-to-end tests of encore-admin: each runs the real binary in a temp directory and checks its
// stdout, stderr and exit code.
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/ledger/ledger_fixture.h"
#include "tests/tools/admin_runner.h"

namespace fs = std::filesystem;
using encore::test::admin;
using encore::test::base_env;
using encore::test::c_strings;
using encore::test::Run;
using encore::test::slurp;
using encore::test::TempDir;
using nlohmann::json;

namespace {

// Runs encore-admin on a pseudo-terminal (stdout and stderr both the tty); returns what it drew.
std::string admin_on_tty(const TempDir& dir, std::vector<std::string> args) {
  args.insert(args.begin(), ENCORE_ADMIN_BIN);
  auto argv = c_strings(args);
  auto env_strings = base_env({"TERM=xterm"});
  auto envp = c_strings(env_strings);
  int master = -1;
  pid_t pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::chdir(dir.path.c_str()) != 0) ::_exit(127);
    ::execve(ENCORE_ADMIN_BIN, argv.data(), envp.data());
    ::_exit(127);
  }
  std::string seen;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO once the child closed the terminal
    seen.append(buf, static_cast<std::size_t>(n));
  }
  ::close(master);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  return seen;
}

// A ledger with `members` members and `purchases` purchases by the first one, closed again.
std::string make_ledger(const TempDir& dir, int members, int purchases) {
  std::string path = dir / "ledger.db";
  encore::ManualClock clock(*encore::parse_rfc3339("2026-01-10T12:00:00Z"));
  auto ledger = encore::Ledger::open(path, encore::test::make_program(), clock);
  encore::Actor actor{"test-pos"};
  ledger->write_batch([&](encore::Writer& w) {
    for (int m = 0; m < members; ++m) {
      REQUIRE(w.enrol(encore::EnrolRequest{"m" + std::to_string(m)}, actor));
    }
    for (int p = 0; p < purchases; ++p) {
      encore::PurchaseRequest req{"m0", "o" + std::to_string(p), 1000 + p, "EUR"};
      REQUIRE(w.purchase(req, actor));
    }
  });
  return path;
}

int count_lines_containing(const std::string& text, const std::string& needle) {
  int n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
  return n;
}

}  // namespace

TEST_CASE("init creates the database and prints an admin key", "[admin]") {
  TempDir dir;
  auto r = admin(dir, {"--db", dir / "e.db", "init"});
  CHECK(r.code == 0);
  CHECK(r.out.find("enc_admin_") != std::string::npos);
  CHECK(fs::exists(dir / "e.db"));

  SECTION("a second init with the same name is refused; a new name is accepted") {
    auto again = admin(dir, {"--db", dir / "e.db", "init"});
    CHECK(again.code == 1);
    CHECK(again.err.find("already exists") != std::string::npos);
    CHECK(again.err.find("--name") != std::string::npos);
    auto other = admin(dir, {"init", "--name", "ops", "--db", dir / "e.db", "--json"});
    CHECK(other.code == 0);
    auto j = json::parse(other.out);
    CHECK(j["name"] == "ops");
    CHECK(j["role"] == "admin");
  }
}

TEST_CASE("init --json prints exactly key, name and role", "[admin]") {
  TempDir dir;
  auto r = admin(dir, {"init", "--json", "--name", "root"}, {"ENCORE_DB=" + (dir / "env.db")});
  REQUIRE(r.code == 0);
  auto j = json::parse(r.out);
  CHECK(j.size() == 3);
  CHECK(j["key"].get<std::string>().rfind("enc_admin_", 0) == 0);
  CHECK(j["name"] == "root");
  CHECK(j["role"] == "admin");
  CHECK(fs::exists(dir / "env.db"));  // ENCORE_DB chose the file
}

TEST_CASE("keys create, list and revoke", "[admin]") {
  TempDir dir;
  auto db = dir / "k.db";
  REQUIRE(admin(dir, {"--db", db, "init"}).code == 0);

  auto created =
      admin(dir, {"--db", db, "keys", "create", "--role", "pos", "--name", "store-1", "--json"});
  REQUIRE(created.code == 0);
  auto c = json::parse(created.out);
  std::string secret = c["key"];
  CHECK(secret.rfind("enc_pos_", 0) == 0);
  CHECK(c["name"] == "store-1");
  CHECK(c["role"] == "pos");

  auto dup = admin(dir, {"--db", db, "keys", "create", "--role", "app", "--name", "store-1"});
  CHECK(dup.code == 1);
  CHECK(dup.err.find("already exists") != std::string::npos);

  // Global options after the subcommand.
  auto listed = admin(dir, {"keys", "list", "--db", db, "--json"});
  REQUIRE(listed.code == 0);
  CHECK(listed.out.find(secret) == std::string::npos);
  auto l = json::parse(listed.out);
  REQUIRE(l.is_array());
  REQUIRE(l.size() == 2);
  for (const auto& k : l) {
    CHECK(k.size() == 4);
    CHECK(k.contains("name"));
    CHECK(k.contains("role"));
    CHECK(k.contains("created_at"));
    CHECK(k["revoked"] == false);
    CHECK_FALSE(k.contains("key"));
    CHECK_FALSE(k.contains("key_hash"));
  }

  auto human = admin(dir, {"--db", db, "keys", "list"});
  CHECK(human.code == 0);
  CHECK(human.out.find("NAME") != std::string::npos);
  CHECK(human.out.find("store-1") != std::string::npos);

  auto revoked = admin(dir, {"--db", db, "keys", "revoke", "store-1"});
  CHECK(revoked.code == 0);
  auto after = json::parse(admin(dir, {"--json", "--db", db, "keys", "list"}).out);
  for (const auto& k : after) CHECK(k["revoked"] == (k["name"] == "store-1"));

  auto missing = admin(dir, {"--db", db, "keys", "revoke", "nope"});
  CHECK(missing.code == 1);
  CHECK(missing.err.find("no key named 'nope'") != std::string::npos);
}

TEST_CASE("usage errors exit 2, help exits 0", "[admin]") {
  TempDir dir;
  auto db = dir / "u.db";
  REQUIRE(admin(dir, {"--db", db, "init"}).code == 0);
  auto unknown = admin(dir, {"frobnicate"});
  CHECK(unknown.code == 2);
  CHECK(unknown.err.find("unknown command 'frobnicate'") != std::string::npos);
  CHECK(admin(dir, {"keys", "frob"}).code == 2);
  CHECK(admin(dir, {}).code == 2);
  CHECK(admin(dir, {"keys"}).code == 2);
  auto no_role = admin(dir, {"--db", db, "keys", "create", "--name", "x"});
  CHECK(no_role.code == 2);
  CHECK(no_role.err.find("--role") != std::string::npos);
  auto bad_role = admin(dir, {"--db", db, "keys", "create", "--role", "boss", "--name", "x"});
  CHECK(bad_role.code == 2);
  CHECK(admin(dir, {"--db", db, "keys", "create", "--role", "pos", "--name", "bad name"}).code ==
        2);
  CHECK(admin(dir, {"--db", db, "export", "--format", "xml"}).code == 2);
  CHECK(admin(dir, {"--db", db, "export", "--format", "csv"}).code == 2);  // needs --out DIR
  CHECK(admin(dir, {"backup"}).code == 2);
  auto help = admin(dir, {"keys", "create", "--help"});
  CHECK(help.code == 0);
  CHECK(help.out.find("Example") != std::string::npos);
  for (const char* cmd : {"init", "migrate", "verify", "backup", "export", "keys"}) {
    auto h = admin(dir, {cmd, "--help"});
    CHECK(h.code == 0);
    CHECK(h.out.find("Example") != std::string::npos);
  }
}

TEST_CASE("commands on a missing database fail with a hint", "[admin]") {
  TempDir dir;
  for (std::vector<std::string> args :
       {std::vector<std::string>{"keys", "list"}, {"verify"}, {"migrate"}, {"export"}}) {
    args.insert(args.end(), {"--db", dir / "absent.db"});
    auto r = admin(dir, args);
    CHECK(r.code == 1);
    CHECK(r.err.find("no database at") != std::string::npos);
    CHECK(r.err.find("init") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(dir / "absent.db"));
}

TEST_CASE("verify passes on a good ledger and reports a tampered copy", "[admin]") {
  TempDir dir;
  auto db = make_ledger(dir, 2, 5);
  auto ok = admin(dir, {"--db", db, "verify"});
  CHECK(ok.code == 0);
  CHECK(ok.out.find("OK") != std::string::npos);
  CHECK(ok.err.empty());  // no progress bar when stderr is not a terminal
  auto okj = json::parse(admin(dir, {"verify", "--json", "--db", db}).out);
  CHECK(okj["ok"] == true);
  CHECK(okj["entries_checked"] == 5);
  CHECK(okj["members_checked"] == 2);
  CHECK(okj["first_mismatch"].is_null());

  auto copy = dir / "tampered.db";
  fs::copy_file(db, copy);
  {
    SQLite::Database t(copy, SQLite::OPEN_READWRITE);
    t.exec("DROP TRIGGER entries_append_only_update");
    t.exec("UPDATE entries SET points = points + 100 WHERE id = 3");
  }
  auto bad = admin(dir, {"--db", copy, "verify"});
  CHECK(bad.code == 1);
  CHECK(bad.out.find("MISMATCH") != std::string::npos);
  CHECK(bad.out.find("entry 3") != std::string::npos);
  auto badj = admin(dir, {"--db", copy, "verify", "--json"});
  CHECK(badj.code == 1);
  auto j = json::parse(badj.out);
  CHECK(j["ok"] == false);
  CHECK(j["first_mismatch"].get<std::string>().find("entry 3") != std::string::npos);
}

TEST_CASE("backup writes a copy that verifies and refuses to overwrite", "[admin]") {
  TempDir dir;
  auto db = make_ledger(dir, 3, 4);
  auto copy = dir / "backup.db";
  auto r = admin(dir, {"--db", db, "backup", copy});
  CHECK(r.code == 0);
  CHECK(r.out.find("OK") != std::string::npos);
  REQUIRE(fs::exists(copy));
  CHECK_FALSE(fs::exists(copy + ".partial"));
  auto v = json::parse(admin(dir, {"--db", copy, "verify", "--json"}).out);
  CHECK(v["ok"] == true);
  CHECK(v["entries_checked"] == 4);
  CHECK(v["members_checked"] == 3);

  auto again = admin(dir, {"--db", db, "backup", copy});
  CHECK(again.code == 1);
  CHECK(again.err.find("--force") != std::string::npos);
  auto forced = admin(dir, {"--db", db, "backup", copy, "--force", "--json"});
  CHECK(forced.code == 0);
  auto f = json::parse(forced.out);
  CHECK(f["written"] == true);
  CHECK(f["verify"]["ok"] == true);
}

TEST_CASE("export writes NDJSON lines and CSV files", "[admin]") {
  TempDir dir;
  auto db = make_ledger(dir, 3, 7);
  auto r = admin(dir, {"--db", db, "export"});
  REQUIRE(r.code == 0);
  CHECK(r.err.empty());
  int members = 0, entries = 0, lines = 0;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    ++lines;
    auto j = json::parse(line);
    if (j["type"] == "member") ++members;
    if (j["type"] == "entry") {
      ++entries;
      CHECK(j["hash"].get<std::string>().size() == 64);
    }
  }
  CHECK(members == 3);
  CHECK(entries == 7);
  CHECK(lines == 10);

  auto file = admin(dir, {"--db", db, "export", "--out", dir / "x.ndjson", "--json"});
  REQUIRE(file.code == 0);
  auto summary = json::parse(file.out);
  CHECK(summary["members"] == 3);
  CHECK(summary["entries"] == 7);
  CHECK(slurp(dir / "x.ndjson") == r.out);
  CHECK(admin(dir, {"--db", db, "export", "--out", dir / "x.ndjson"}).code == 1);

  auto csv = admin(dir, {"--db", db, "export", "--format", "csv", "--out", dir / "csv"});
  REQUIRE(csv.code == 0);
  auto m = slurp(dir / "csv/members.csv");
  auto e = slurp(dir / "csv/entries.csv");
  CHECK(m.rfind("member_id,email,", 0) == 0);
  CHECK(e.rfind("id,member_id,kind,points,", 0) == 0);
  CHECK(count_lines_containing(m, "") == 4);
  CHECK(count_lines_containing(e, "") == 8);
}

TEST_CASE("progress bars appear on a terminal only", "[admin]") {
  TempDir dir;
  auto db = make_ledger(dir, 1, 300);
  auto piped = admin(dir, {"--db", db, "export", "--out", dir / "a.ndjson"});
  CHECK(piped.code == 0);
  CHECK(piped.err.empty());
  auto verify = admin(dir, {"--db", db, "verify"});
  CHECK(verify.code == 0);
  CHECK(verify.err.empty());
  CHECK(verify.out.find('\r') == std::string::npos);
  auto tty = admin_on_tty(dir, {"--db", db, "export", "--out", dir / "b.ndjson"});
  CHECK(tty.find("exporting [") != std::string::npos);
  CHECK(tty.find("/s") != std::string::npos);
}

TEST_CASE("migrate is refused while a server holds the lock, keys still work", "[admin]") {
  TempDir dir;
  auto db = dir / "l.db";
  REQUIRE(admin(dir, {"--db", db, "init"}).code == 0);
  auto ok = admin(dir, {"--db", db, "migrate", "--json"});
  CHECK(ok.code == 0);
  auto j = json::parse(ok.out);
  CHECK(j["from"] == j["to"]);

  int fd = ::open((db + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  auto refused = admin(dir, {"--db", db, "migrate"});
  CHECK(refused.code == 1);
  CHECK(refused.err.find("database is held by a running encore-server; use --server") !=
        std::string::npos);
  CHECK(admin(dir, {"--db", db, "keys", "create", "--role", "app", "--name", "app-1"}).code == 0);
  CHECK(admin(dir, {"--db", db, "keys", "list"}).code == 0);
  CHECK(admin(dir, {"--db", db, "keys", "revoke", "app-1"}).code == 0);
  CHECK(admin(dir, {"--db", db, "verify"}).code == 0);
  ::close(fd);
  CHECK(admin(dir, {"--db", db, "migrate"}).code == 0);
}

TEST_CASE("report liability, repeat-purchase and rfm read the ledger offline", "[admin][reports]") {
  TempDir dir;
  const auto db = make_ledger(dir, 3, 4);  // m0 buys 4 times (10 points each), m1 and m2 never
  {
    std::ofstream program(dir / "program.json");
    program << R"({"currency": "EUR", "timezone": "UTC", "point_value_minor": 2,
                   "earn": {"points_per_unit": 1, "unit_minor": 100}})";
  }
  const std::vector<std::string> common = {"--db", db, "--program", dir / "program.json"};
  const auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin() + 2, common.begin(), common.end());
    return admin(dir, args);
  };

  auto liability = run({"report", "liability", "--json", "--months", "3"});
  INFO(liability.err);
  REQUIRE(liability.code == 0);
  auto l = json::parse(liability.out);
  CHECK(l.at("members") == 3);
  CHECK(l.at("outstanding").at("points") == 40);
  CHECK(l.at("outstanding").at("value_minor") == 80);
  CHECK(l.at("no_expiry").at("points") == 40);  // this program has no expiry
  CHECK(l.at("expiring").size() == 3);

  auto repeat = run({"report", "repeat-purchase", "--json"});
  REQUIRE(repeat.code == 0);
  auto r = json::parse(repeat.out);
  CHECK(r.at("purchasers") == 1);
  CHECK(r.at("repeat_purchasers") == 1);
  CHECK(r.at("second_purchase_rate_bp") == 10000);
  CHECK(r.at("median_days_to_second") == 0);
  CHECK(r.at("cohorts").at(0).at("cohort") == "2026-01");

  auto rfm = run({"report", "rfm", "--json"});
  REQUIRE(rfm.code == 0);
  auto f = json::parse(rfm.out);
  CHECK(f.at("purchasers") == 1);
  CHECK(f.at("no_purchase_members") == 2);
  // A lone purchaser sits mid-rank (R 3, F 3; 4 purchases, so the cap leaves F at 3): loyal.
  for (const auto& s : f.at("segments")) {
    CHECK(s.at("members") == (s.at("segment") == "loyal" ? 1 : 0));
  }

  SECTION("human output and an HTML page with charts") {
    auto human = run({"report", "liability", "--html", "liability.html"});
    REQUIRE(human.code == 0);
    CHECK(human.out.find("outstanding") != std::string::npos);
    CHECK(human.out.find("no expiry") != std::string::npos);
    const auto page = slurp(dir / "liability.html");
    CHECK(page.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(page.find("<svg") != std::string::npos);
    CHECK(page.find("Points liability") != std::string::npos);
    for (const char* report : {"repeat-purchase", "rfm"}) {
      auto other = run({"report", report, "--html", std::string(report) + ".html"});
      REQUIRE(other.code == 0);
      CHECK(slurp(dir / (std::string(report) + ".html")).find("<svg") != std::string::npos);
    }
  }

  SECTION("usage errors") {
    CHECK(run({"report", "liability", "--months", "0"}).code == 2);
    CHECK(run({"report", "liability", "--months", "121"}).code == 2);
    auto no_program = admin(dir, {"--db", db, "report", "rfm"});
    CHECK(no_program.code == 2);
    CHECK(no_program.err.find("--program") != std::string::npos);
  }
}
