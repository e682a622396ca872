// WalResetGuard (ledger/wal_reset_guard.h): no checkpoint starts while a write transaction may
// be starting the WAL over, i.e. between a checkpoint that copied every frame and the commit of
// the writer's next transaction, unless the writer has added frames that checkpoint did not see.
#include <catch2/catch.hpp>

#include <future>
#include <thread>

#include "ledger/wal_reset_guard.h"

using encore::WalCheckpoint;
using encore::WalResetGuard;

namespace {

WalCheckpoint copied(int copied_frames, int log_frames) {
  return WalCheckpoint{true, log_frames, copied_frames};
}

// One writer transaction that began now and committed, leaving the WAL `wal_frames` long.
void write_frames(WalResetGuard& guard, int wal_frames) {
  guard.committed(guard.before_write(), true, wal_frames);
}

}  // namespace

TEST_CASE("no checkpoint starts before the writer's first transaction", "[ledger][wal]") {
  // When the server opens the database its WAL may already be fully copied.
  WalResetGuard guard;
  CHECK(guard.paused());
  CHECK_FALSE(guard.run([] { return copied(5, 5); }));
  CHECK_FALSE(guard.try_run([] { return copied(5, 5); }));
  write_frames(guard, 9);
  CHECK_FALSE(guard.paused());
  CHECK(guard.writer_wal_frames() == 9);
  CHECK(guard.run([] { return copied(3, 9); }));
}

TEST_CASE("after a checkpoint copied every frame, none starts until the writer commits",
          "[ledger][wal]") {
  WalResetGuard guard;
  write_frames(guard, 40);
  int checkpoints = 0;
  auto copies_all_of_40 = [&] {
    ++checkpoints;
    return copied(40, 40);
  };
  auto copies_part = [&] {
    ++checkpoints;
    return copied(10, 40);
  };

  CHECK(guard.run(copies_part));
  CHECK_FALSE(guard.paused());
  CHECK(guard.run(copies_all_of_40));
  CHECK(checkpoints == 2);
  CHECK(guard.paused());
  // Neither the background pass nor the writer's own checkpoint starts now.
  CHECK_FALSE(guard.run(copies_part));
  CHECK_FALSE(guard.try_run(copies_part));
  CHECK(checkpoints == 2);

  // The writer's next transaction began after the full copy (it may start the WAL over): the
  // pause lasts until it committed.
  const auto seen = guard.before_write();
  CHECK_FALSE(guard.run(copies_part));
  guard.committed(seen, true, 12);
  CHECK_FALSE(guard.paused());
  CHECK(guard.run(copies_part));
  CHECK(checkpoints == 3);
}

TEST_CASE("a commit that wrote no WAL frame does not end the pause", "[ledger][wal]") {
  // A batch whose every request was refused commits without writing a page: the WAL is still
  // fully copied, and the next transaction may start it over (review finding).
  WalResetGuard guard;
  write_frames(guard, 40);
  CHECK(guard.run([] { return copied(40, 40); }));
  guard.committed(guard.before_write(), false, 40);
  CHECK(guard.paused());
  CHECK_FALSE(guard.run([] { return copied(40, 40); }));
  write_frames(guard, 3);
  CHECK_FALSE(guard.paused());
}

TEST_CASE("a transaction that began before the full copy does not end the pause", "[ledger][wal]") {
  WalResetGuard guard;
  write_frames(guard, 30);
  // The writer begins while frames are uncopied; meanwhile a checkpoint copies all 40 it sees.
  const auto seen = guard.before_write();
  CHECK(guard.run([] { return copied(40, 40); }));
  guard.committed(seen, true, 40);
  CHECK(guard.paused());
  // The commit was in the checkpoint's view (the WAL is still 40 frames): it may be all copied,
  // and the next transaction may start the WAL over, so nothing starts.
  CHECK_FALSE(guard.run([] { return copied(40, 40); }));
  // A commit that began before the copy and then added frames past what it saw: those are not
  // copied, so the WAL cannot start over, and the idle WAL may be copied.
  guard.committed(seen, true, 52);
  CHECK(guard.run([] { return copied(52, 52); }));
  CHECK(guard.paused());  // that copy was full too
  CHECK_FALSE(guard.run([] { return copied(52, 52); }));
  write_frames(guard, 6);
  CHECK_FALSE(guard.paused());
}

TEST_CASE("a WAL started over and copied again is not taken for a longer one", "[ledger][wal]") {
  // Review finding: the writer's length was stored after the pause ended, so a pass could
  // compare the old, longer length with a new full copy of the restarted WAL and start while the
  // next transaction starts the WAL over again. committed() records the length first.
  WalResetGuard guard;
  write_frames(guard, 100);
  CHECK(guard.run([] { return copied(100, 100); }));
  write_frames(guard, 13);  // this transaction started the WAL over: 13 frames
  CHECK(guard.run([] { return copied(13, 13); }));
  CHECK(guard.paused());
  CHECK_FALSE(guard.run([] { return copied(13, 13); }));
}

TEST_CASE("a full copy reported while the writer's transaction ran keeps its pause",
          "[ledger][wal]") {
  // Review finding: transaction T began during a pause; before T's commit was acknowledged, a
  // checkpoint (allowed: the writer's previous commit had added frames) copied everything. That
  // pause must wait for a transaction that began after it, not end with T.
  WalResetGuard guard;
  write_frames(guard, 100);
  CHECK(guard.run([] { return copied(100, 100); }));
  const auto seen_by_t = guard.before_write();
  guard.committed(guard.before_write(), false, 110);  // the previous commit's length, seen late
  CHECK(guard.run([] { return copied(120, 120); }));
  guard.committed(seen_by_t, true, 120);
  CHECK(guard.paused());
  CHECK_FALSE(guard.run([] { return copied(120, 120); }));
  write_frames(guard, 4);
  CHECK_FALSE(guard.paused());
}

TEST_CASE("the writer's checkpoint never waits for a background pass in progress",
          "[ledger][wal]") {
  WalResetGuard guard;
  write_frames(guard, 2);
  std::promise<void> started;
  std::promise<void> release;
  auto release_future = release.get_future();
  std::thread background([&] {
    guard.run([&] {
      started.set_value();
      release_future.wait();
      return copied(1, 2);
    });
  });
  started.get_future().wait();
  bool writer_ran = false;
  CHECK_FALSE(guard.try_run([&] {
    writer_ran = true;
    return copied(2, 2);
  }));
  CHECK_FALSE(writer_ran);
  release.set_value();
  background.join();
  CHECK(guard.try_run([&] {
    writer_ran = true;
    return copied(2, 2);
  }));
  CHECK(writer_ran);
}
