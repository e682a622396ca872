// WAL upkeep with background checkpoints (Ledger::start_background_checkpoints): the writer starts
// the WAL over between batches, so a server under steady writes keeps a bounded WAL file.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "ledger/verify.h"
#include "ledger/writer_vfs.h"
#include "tests/ledger/ledger_fixture.h"

using namespace encore;
using namespace encore::test;

namespace {

// A digest of the file's bytes (a failed CHECK prints a number, not the binary file).
std::size_t file_digest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::hash<std::string>{}(
      std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()));
}

std::uintmax_t file_bytes(const std::string& path) {
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path, ec);
  return ec ? 0 : bytes;
}

// Makes WAL syncs fail until stop() or the end of the scope (a failed REQUIRE included), so
// the process-wide switch never leaks into the next test.
struct FailingWalSyncs {
  explicit FailingWalSyncs(FailWalSyncs which) { writer_vfs_fail_wal_syncs_for_testing(which); }
  ~FailingWalSyncs() { stop(); }
  void stop() { writer_vfs_fail_wal_syncs_for_testing(FailWalSyncs::none); }
};

// Lowers this process's descriptor limit to the lowest free descriptor, so the next open() fails
// with EMFILE, until the end of the scope.
struct NoFreeDescriptors {
  rlimit saved{};
  NoFreeDescriptors() {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
    const int lowest_free = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // the lowest free number
    REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    rlimit tight = saved;
    tight.rlim_cur = static_cast<rlim_t>(lowest_free);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &tight) == 0);
  }
  ~NoFreeDescriptors() { ::setrlimit(RLIMIT_NOFILE, &saved); }
  NoFreeDescriptors(const NoFreeDescriptors&) = delete;
  NoFreeDescriptors& operator=(const NoFreeDescriptors&) = delete;
};

}  // namespace

TEST_CASE("under steady writes the WAL starts over: its file stays bounded and nothing is lost",
          "[ledger][wal]") {
  constexpr int wal_restart_frames = 64;  // 256 KiB
  constexpr int members = 300;
  constexpr int batches = 400;
  constexpr int purchases_per_batch = 4;
  LedgerFixture f;
  f.ledger->start_background_checkpoints(std::chrono::milliseconds(1), wal_restart_frames);
  for (int m = 0; m < members; ++m) f.enrol("m" + std::to_string(m));

  std::uintmax_t largest_wal_bytes = 0;
  int order = 0;
  for (int b = 0; b < batches; ++b) {
    f.ledger->write_batch([&](Writer& w) {
      for (int i = 0; i < purchases_per_batch; ++i, ++order) {
        PurchaseRequest req{"m" + std::to_string(order % members), "o" + std::to_string(order),
                            1000, "EUR"};
        REQUIRE(w.purchase(req, f.actor));
      }
    });
    largest_wal_bytes = std::max(largest_wal_bytes, file_bytes(f.path + "-wal"));
  }

  // 1,600 purchases write about 20 MiB of WAL pages: the file reaches that size when the writer
  // never restarts it (checked by disabling the restart). Restarting past 64 pages keeps it near
  // 256 KiB plus the pages of one batch. A restart waits while a checkpoint is running, and on a
  // loaded machine (parallel tests, sanitizers) that thread can be descheduled mid-pass for many
  // batches: 1.1 MiB was seen once in ~220 runs with five test processes on 2 cores, so the bound
  // is 2 MiB, still a tenth of the unbounded size.
  CHECK(largest_wal_bytes < 2 * 1024 * 1024);
  // The passes started the write-back of the pages they copied, through SQLite's own descriptor
  // of the database file (found and checked: Store::start_database_writeback), so the writer's
  // sync before each restart has little left to write.
  CHECK(f.ledger->background_writebacks() > 0);
  for (int m = 0; m < members; m += 37) {
    const auto per_member = batches * purchases_per_batch / members;
    CHECK(f.balance("m" + std::to_string(m)).balance >= per_member * 10);
  }
  auto report = verify_ledger(f.path);
  CHECK(report.ok);
  CHECK(report.entries_checked >= static_cast<std::int64_t>(batches * purchases_per_batch));
}

TEST_CASE("with the background pass stalled the writer starts the WAL over past twice its length",
          "[ledger][wal]") {
  // The writer copies a long backlog only when it must (writer_copy_due): it holds every write
  // while it copies. Here no background pass runs (its first tick is an hour away), so nothing is
  // copied until the WAL is past twice the restart length; then the writer copies it all.
  constexpr int wal_restart_frames = 64;
  LedgerFixture f;
  f.ledger->start_background_checkpoints(std::chrono::hours(1), wal_restart_frames);
  for (int m = 0; m < 50; ++m) f.enrol("m" + std::to_string(m));
  int largest_frames = 0;
  int largest_batch_frames = 0;
  int restarts = 0;
  int order = 0;
  for (int b = 0; b < 200; ++b) {
    const int before = f.ledger->wal_frames();
    f.ledger->write_batch([&](Writer& w) {
      for (int i = 0; i < 2; ++i, ++order) {
        PurchaseRequest req{"m" + std::to_string(order % 50), "o" + std::to_string(order), 1000,
                            "EUR"};
        REQUIRE(w.purchase(req, f.actor));
      }
    });
    const int after = f.ledger->wal_frames();
    if (after < before) {
      ++restarts;
    } else {
      largest_batch_frames = std::max(largest_batch_frames, after - before);
    }
    largest_frames = std::max(largest_frames, after);
  }
  CHECK(restarts >= 2);
  // Past the restart length the WAL grew on (a writer copying at once stays under 64 + a batch)...
  CHECK(largest_frames > 2 * wal_restart_frames);
  // ...and no further than one batch past twice the length.
  CHECK(largest_frames <= 2 * wal_restart_frames + largest_batch_frames);
  CHECK(verify_ledger(f.path).ok);
}

TEST_CASE("a short WAL that stopped growing is copied to the database file", "[ledger][wal]") {
  // Once writes pause the background pass copies everything, so the database file does not lag
  // behind an idle server.
  LedgerFixture f;
  f.ledger->start_background_checkpoints(std::chrono::milliseconds(1), 4096);
  for (int m = 0; m < 40; ++m) f.enrol("m" + std::to_string(m));
  for (int i = 0; i < 40; ++i) {
    PurchaseRequest req{"m" + std::to_string(i), "o" + std::to_string(i), 1000, "EUR"};
    REQUIRE(f.ledger->write([&](Writer& w) { return w.purchase(req, f.actor); }));
  }
  // The last order must be in the database file alone: a copy of that file without its WAL
  // (opened immutable, so SQLite does not look for one) is what a checkpoint has written so far.
  // Polled: the pass runs on its own thread (a generous limit, not a timing assertion).
  const std::string snapshot = f.path + ".snapshot";
  auto last_order_in_database_file = [&] {
    try {
      std::filesystem::copy_file(f.path, snapshot,
                                 std::filesystem::copy_options::overwrite_existing);
      SQLite::Database db("file:" + snapshot + "?immutable=1",
                          SQLite::OPEN_READONLY | SQLite::OPEN_URI);
      return db.execAndGet("SELECT COUNT(*) FROM orders WHERE order_id = 'o39'").getInt() == 1;
    } catch (const std::exception&) {
      return false;  // copied while a pass was writing it: try again
    }
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool copied = false;
  while (!(copied = last_order_in_database_file()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(copied);
}

TEST_CASE("WAL restarts while checkpoints run back to back lose no commit", "[ledger][wal]") {
  // SQLite's WAL-reset bug (ledger/wal_reset_guard.h): a checkpoint that starts while the writer
  // starts the WAL over can make readers and later checkpoints skip the new frames. Here the WAL
  // starts over after almost every commit while the background pass runs without a pause; the
  // member cache's self-check reads each member back after every commit.
  constexpr int purchases = 1200;
  constexpr int members = 20;
  LedgerFixture f;
  f.ledger->start_background_checkpoints(std::chrono::milliseconds(0), 2);  // back to back
  for (int m = 0; m < members; ++m) f.enrol("m" + std::to_string(m));
  for (int i = 0; i < purchases; ++i) {
    REQUIRE(f.buy("m" + std::to_string(i % members), "o" + std::to_string(i), 1000));
  }
  // Closing the last connection copies the WAL into the database file: every order must be there.
  f.ledger.reset();
  {
    SQLite::Database db("file:" + f.path + "?immutable=1",
                        SQLite::OPEN_READONLY | SQLite::OPEN_URI);
    CHECK(db.execAndGet("SELECT COUNT(*) FROM orders").getInt() == purchases);
  }
  CHECK(verify_ledger(f.path).ok);
}

TEST_CASE("a long reader does not stall writes while the WAL is past its forced-restart length",
          "[ledger][wal]") {
  // A report, backup or reminder planning holds one read snapshot for its whole scan; the WAL
  // cannot start over meanwhile and grows. Past 4x the restart length the background pass forces
  // a RESTART checkpoint, which holds the write lock while it waits for readers: if that wait
  // lasted until the reader ended (up to 5 s, then again at the next pass), every till's purchase
  // would stall for the length of the report. The wait is bounded and the forced restarts spaced
  // out, so writes go on (slower) and the WAL grows until the reader ends.
  constexpr int wal_restart_frames = 16;  // forced past 64 frames (256 KiB)
  constexpr auto reader_hold = std::chrono::seconds(3);
  LedgerFixture f;
  f.ledger->start_background_checkpoints(std::chrono::milliseconds(1), wal_restart_frames);
  constexpr int members = 50;
  for (int m = 0; m < members; ++m) f.enrol("m" + std::to_string(m));

  SQLite::Database reader(f.path, SQLite::OPEN_READONLY);
  reader.exec("BEGIN");
  REQUIRE(reader.execAndGet("SELECT COUNT(*) FROM members").getInt() == members);  // pins it

  using Clock = std::chrono::steady_clock;
  const auto started = Clock::now();
  Clock::duration slowest_write{};
  int order = 0;
  while (Clock::now() - started < reader_hold) {
    const auto write_started = Clock::now();
    REQUIRE(f.buy("m" + std::to_string(order % members), "o" + std::to_string(order), 1000));
    slowest_write = std::max(slowest_write, Clock::now() - write_started);
    ++order;
  }
  const auto forced = f.ledger->forced_restarts();
  reader.exec("COMMIT");

  // Without the bound one write waited for the whole 3 s snapshot (checked). With it, a write
  // waits at most for one bounded RESTART attempt (100 ms); 1 s leaves room for a loaded,
  // sanitized run. Forced attempts that gave up are 1 s apart: 3 or 4 in 3 s (without the
  // spacing: dozens, checked). Over 100 purchases outgrow the forced-restart length many times
  // over (~2,800 were written here on an idle machine).
  CHECK(slowest_write < std::chrono::seconds(1));
  CHECK(forced.gave_up >= 1);  // the reader was there for each of them
  CHECK(forced.attempts <= 4);
  CHECK(order > 100);
  CHECK(file_bytes(f.path + "-wal") > 4 * wal_restart_frames * 4096);
  // Once the reader is gone the WAL starts over again: its file stops growing.
  for (int i = 0; i < 200; ++i, ++order) {
    REQUIRE(f.buy("m" + std::to_string(order % members), "o" + std::to_string(order), 1000));
  }
  const auto wal_after_reader = file_bytes(f.path + "-wal");
  for (int i = 0; i < 400; ++i, ++order) {
    REQUIRE(f.buy("m" + std::to_string(order % members), "o" + std::to_string(order), 1000));
  }
  CHECK(file_bytes(f.path + "-wal") == wal_after_reader);
  CHECK(verify_ledger(f.path).ok);
}

TEST_CASE("a batch committed with a deferred sync is visible at once and durable after sync_wal",
          "[ledger][wal]") {
  LedgerFixture f;
  f.enrol("m1");  // a durable commit: the WAL's first sync has run
  // Before background checkpoints SQLite may checkpoint inside COMMIT: nothing is deferred.
  CHECK_FALSE(f.ledger->write_batch_deferring_sync(
      [](Writer& w) { REQUIRE(w.enrol(EnrolRequest{"m0"}, Actor{"test"})); }));
  f.ledger->start_background_checkpoints(std::chrono::milliseconds(10));
  CHECK(f.ledger->write_batch_deferring_sync(
      [](Writer& w) { REQUIRE(w.enrol(EnrolRequest{"m2"}, Actor{"test"})); }));
  // Readers see it before its sync (the caller withholds the answer until sync_wal).
  CHECK(f.ledger->member("m2"));
  CHECK(f.ledger->sync_wal());
  CHECK_FALSE(f.ledger->durability_lost());
  CHECK(f.ledger->durability_failure().empty());
  // A failed batch commits nothing and owes nothing.
  CHECK_THROWS(f.ledger->write_batch_deferring_sync([](Writer& w) {
    REQUIRE(w.enrol(EnrolRequest{"m3"}, Actor{"test"}));
    throw std::runtime_error("the batch fails");
  }));
  CHECK_FALSE(f.ledger->member("m3"));
  CHECK(verify_ledger(f.path).ok);
}

TEST_CASE("a batch that cannot open the WAL for a deferred sync syncs inside its own COMMIT",
          "[ledger][wal]") {
#if defined(__SANITIZE_ADDRESS__)
  // Out of descriptors, the sanitizers' runtime misreports the thrown exception (UBSan: "invalid
  // vptr" on what()); the release build runs this test.
  SUCCEED("skipped under the sanitizers");
  return;
#endif
  LedgerFixture f;
  f.enrol("m1");
  // Its first pass an hour away: no other thread of the test opens or closes files meanwhile.
  f.ledger->start_background_checkpoints(std::chrono::hours(1));
  std::vector<std::string> reasons;
  f.ledger->on_undeferred_batch([&reasons](const std::string& why) { reasons.push_back(why); });
  const auto deferred_before = writer_vfs_stats().wal_syncs_deferred;
  {
    NoFreeDescriptors none;  // e.g. a server out of descriptors under a flood of connections
    // Committed and durable: nothing owed to sync_wal, and the COMMIT skipped no sync.
    CHECK_FALSE(f.ledger->write_batch_deferring_sync(
        [](Writer& w) { REQUIRE(w.enrol(EnrolRequest{"m2"}, Actor{"test"})); }));
  }
  CHECK(writer_vfs_stats().wal_syncs_deferred == deferred_before);
  CHECK(f.ledger->undeferred_batches() == 1);
  REQUIRE(reasons.size() == 1);
  CHECK(reasons[0].find("Too many open files") != std::string::npos);
  CHECK_FALSE(f.ledger->durability_lost());
  CHECK(f.ledger->member("m2"));
  // With descriptors free again the next batch opens the WAL and defers its sync.
  CHECK(f.ledger->write_batch_deferring_sync(
      [](Writer& w) { REQUIRE(w.enrol(EnrolRequest{"m3"}, Actor{"test"})); }));
  CHECK(writer_vfs_stats().wal_syncs_deferred > deferred_before);
  CHECK(f.ledger->sync_wal());
  CHECK(f.ledger->undeferred_batches() == 1);
  CHECK(verify_ledger(f.path).ok);
}

TEST_CASE("after a failed WAL sync nothing more is checkpointed or written, and the WAL survives",
          "[ledger][wal]") {
  std::uintmax_t wal_bytes_at_failure = 0;
  {
    LedgerFixture f;
    // The default restart length: the writer never copies the WAL itself in this test.
    f.ledger->start_background_checkpoints(std::chrono::milliseconds(1));
    for (int m = 0; m < 20; ++m) f.enrol("m" + std::to_string(m));
    // A disk that refuses fsync to the background pass (the writer's own commit still succeeds).
    FailingWalSyncs failing(FailWalSyncs::outside_commits);
    f.ledger->write_batch_deferring_sync(
        [](Writer& w) { REQUIRE(w.enrol(EnrolRequest{"late"}, Actor{"test"})); });
    for (int i = 0; i < 500 && !f.ledger->durability_lost(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    failing.stop();  // the disk "recovers": nothing may resume
    REQUIRE(f.ledger->durability_lost());
    // The background pass (every 1 ms) copies nothing into the database file any more.
    const std::size_t db_digest = file_digest(f.path);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    CHECK(file_digest(f.path) == db_digest);
    CHECK(f.ledger->durability_failure().find("wal checkpoint failed") != std::string::npos);
    CHECK_FALSE(f.ledger->sync_wal());
    CHECK_THROWS_AS(f.enrol("after"), StorageFailure);
    CHECK_THROWS_AS(f.ledger->write_batch_deferring_sync([](Writer&) {}), StorageFailure);
    wal_bytes_at_failure = file_bytes(f.path + "-wal");
    CHECK(wal_bytes_at_failure > 0);
    // Closing does not copy the WAL into the database and delete it (SQLite's default when the
    // last connection closes): the files stay as the failure left them. Checked below, before
    // the fixture removes its directory.
    const std::string path = f.path;
    f.ledger.reset();
    CHECK(std::filesystem::exists(path + "-wal"));
    CHECK(file_bytes(path + "-wal") == wal_bytes_at_failure);
    // A new process recovers the WAL: every commit made before the failure is there.
    auto reopened = Ledger::open(path, make_program(), f.clock);
    CHECK(reopened->member("m19"));
    CHECK(reopened->member("late"));
    CHECK_FALSE(reopened->member("after"));
    CHECK_FALSE(reopened->durability_lost());
    reopened.reset();
    CHECK(verify_ledger(path).ok);
  }
}

TEST_CASE("a COMMIT whose own WAL sync fails stops every later write", "[ledger][wal]") {
  LedgerFixture f;
  f.enrol("m1");
  {
    FailingWalSyncs failing(FailWalSyncs::all);
    CHECK_THROWS_AS(f.enrol("m2"), StorageFailure);
  }
  CHECK(f.ledger->durability_lost());
  CHECK_THROWS_AS(f.enrol("m3"), StorageFailure);  // the disk answers again: still stopped
  CHECK(f.ledger->member("m1"));
  CHECK_FALSE(f.ledger->member("m2"));
}
