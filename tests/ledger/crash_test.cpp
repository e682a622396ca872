// Crash test: a child process (crash_writer) writes to the ledger and is killed with SIGKILL at
// random moments; after each kill the database must open cleanly, pass PRAGMA integrity_check
// and verify_ledger, hold every acknowledged write exactly once and no partial one.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ledger/verify.h"
#include "tests/ledger/ledger_fixture.h"

using namespace encore;

namespace {

struct Child {
  pid_t pid = -1;
  int out = -1;
};

Child spawn_writer(const std::string& db, const std::string& prefix) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    ::execl(CRASH_WRITER_PATH, CRASH_WRITER_PATH, db.c_str(), prefix.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  return Child{pid, fds[0]};
}

// Reads the child's output for `duration`, then kills it and drains the pipe. With
// `after_first_ack`, the duration starts once the child has acknowledged a write (waiting up to
// 60 s): on a loaded machine (sanitizers, a parallel build) starting the process and opening the
// database can take longer than the whole window, and the rounds would test only start-up.
std::string run_then_kill(Child child, std::chrono::milliseconds duration, bool after_first_ack) {
  std::string data;
  char buf[4096];
  using Clock = std::chrono::steady_clock;
  // Until the first acknowledgement, the deadline is the 60 s give-up; then it is `duration`.
  bool window_started = !after_first_ack;
  auto deadline = Clock::now() + (window_started ? duration : std::chrono::seconds(60));
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd p{child.out, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) > 0) {
      auto n = ::read(child.out, buf, sizeof buf);
      if (n == 0) break;  // the child exited early
      if (n < 0) continue;
      data.append(buf, static_cast<std::size_t>(n));
      if (!window_started && data.find('\n') != std::string::npos) {
        window_started = true;
        deadline = Clock::now() + duration;
      }
    }
  }
  ::kill(child.pid, SIGKILL);
  int status = 0;
  ::waitpid(child.pid, &status, 0);
  for (;;) {
    auto n = ::read(child.out, buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<std::size_t>(n));
  }
  ::close(child.out);
  INFO("child output tail: " << data.substr(data.size() > 200 ? data.size() - 200 : 0));
  CHECK(WIFSIGNALED(status));  // it was still writing: it did not die on its own
  return data;
}

}  // namespace

TEST_CASE("a writer killed at random moments loses no acknowledged write and leaves no partial one",
          "[crash]") {
  const std::string db_path = encore::test::temp_db_path("crash");
  std::mt19937_64 rng(std::random_device{}());
  const int rounds = 20;
  std::vector<std::string> acked_purchases;
  std::vector<std::string> acked_redemptions;
  for (int round = 1; round <= rounds; ++round) {
    auto ms = std::uniform_int_distribution<int>(20, 200)(rng);
    CAPTURE(round, ms);
    // Odd rounds kill at any moment, start-up included; the first round (it creates the
    // database) and even rounds once writes are being acknowledged, so that every machine,
    // however slow, acknowledges some.
    auto child = spawn_writer(db_path, "k" + std::to_string(round));
    const bool after_first_ack = round == 1 || round % 2 == 0;
    auto output = run_then_kill(child, std::chrono::milliseconds{ms}, after_first_ack);
    std::istringstream lines(output);
    std::string line;
    while (std::getline(lines, line)) {
      if (lines.eof()) break;  // a line cut by the kill has no newline: not counted
      if (line.rfind("P ", 0) == 0) acked_purchases.push_back(line.substr(2));
      if (line.rfind("R ", 0) == 0) acked_redemptions.push_back(line.substr(2));
    }

    SQLite::Database db(db_path, SQLite::OPEN_READWRITE);
    CHECK(db.execAndGet("PRAGMA integrity_check").getString() == "ok");
    auto report = verify_ledger(db_path);
    INFO(report.first_mismatch);
    CHECK(report.ok);

    SQLite::Statement order_count(db, "SELECT count(*) FROM orders WHERE order_id = ?");
    SQLite::Statement entry_count(db,
                                  "SELECT count(*) FROM entries WHERE order_id = ? AND kind = ?");
    for (const auto& order : acked_purchases) {
      INFO("purchase " << order);
      order_count.bind(1, order);
      REQUIRE(order_count.executeStep());
      CHECK(order_count.getColumn(0).getInt() == 1);
      order_count.reset();
      entry_count.bind(1, order);
      entry_count.bind(2, "earn");
      REQUIRE(entry_count.executeStep());
      CHECK(entry_count.getColumn(0).getInt() == 1);  // amounts >= 100 always earn
      entry_count.reset();
    }
    for (const auto& order : acked_redemptions) {
      INFO("redemption " << order);
      entry_count.bind(1, order);
      entry_count.bind(2, "redeem");
      REQUIRE(entry_count.executeStep());
      CHECK(entry_count.getColumn(0).getInt() == 1);
      entry_count.reset();
    }
    // No half-written purchase, acknowledged or not: every order has exactly its earn entry and
    // its lot, and no earn entry lacks its order.
    CHECK(db.execAndGet("SELECT count(*) FROM orders o WHERE earned_points > 0 AND ("
                        " (SELECT count(*) FROM entries e WHERE e.order_id = o.order_id AND"
                        "  e.kind = 'earn') != 1 OR"
                        " (SELECT count(*) FROM lots l WHERE l.id = o.earn_lot_id) != 1)")
              .getInt() == 0);
    CHECK(db.execAndGet("SELECT count(*) FROM entries e WHERE kind = 'earn' AND NOT EXISTS"
                        " (SELECT 1 FROM orders o WHERE o.order_id = e.order_id)")
              .getInt() == 0);
    CHECK(db.execAndGet("SELECT count(*) FROM entries WHERE kind = 'redeem' AND"
                        " (lots IS NULL OR lots = '')")
              .getInt() == 0);
  }
  INFO("acknowledged purchases " << acked_purchases.size() << ", redemptions "
                                 << acked_redemptions.size());
  CHECK(acked_purchases.size() > 0);
  std::filesystem::remove_all(std::filesystem::path(db_path).parent_path());
}
