// Keeps WAL checkpoints from starting while the writer may be starting the WAL over.
//
// Why: SQLite 3.7.0 to 3.51.2 (Debian 12 ships 3.40.1) has a data race, the "WAL-reset bug"
// (https://sqlite.org/wal.html#walresetbug, fixed in 3.51.3). When a checkpoint starts while
// another connection commits the transaction that starts the WAL over, the checkpoint can leave a
// wrong backfill count in the WAL index. Readers then take the new frames for copied ones and read
// older pages from the database file, and a later checkpoint skips them: committed writes are lost.
// The server hits that pattern: a background connection checkpoints every 10 ms while the writer's
// connection starts the WAL over after each restart threshold. Reproduced here: right after a
// restart, the member cache's self-check read a member's state from before the last commit
// (tests/ledger/wal_test.cpp under parallel load; figures in docs/PERFORMANCE.md, 2026-12-01).
//
// The rule: SQLite starts the WAL over only in a write transaction that began when every frame
// had been copied, and only a checkpoint makes that so. Checkpoints run one at a time under this
// guard. Once one reports that it copied every frame, the next starts only when
// - the writer has committed a transaction that began after that report and wrote frames (it
//   either started the WAL over or appended to it), or
// - the writer's last commit left the WAL longer than that checkpoint saw it: those frames are
//   not copied yet, so nothing can start the WAL over (this lets an idle WAL be copied when the
//   writer's last transaction overlapped the report).
// It starts paused (the WAL may be fully copied already when the server opens it). So no
// checkpoint ever starts while a transaction may be starting the WAL over. The price: a WAL the
// writer started over just as a full copy was reported may wait for the next write to be copied
// (it is durable either way; only the database file lags).
//
// Assumes no other connection checkpoints the database while the guard's owner writes (the
// server's other connections are read-only; `encore-admin keys` turns its checkpoints off).
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>

#include "ledger/store.h"

namespace encore {

class WalResetGuard {
 public:
  // The background pass: waits for a checkpoint in progress, then runs `checkpoint` (returning a
  // WalCheckpoint) unless the rule above forbids it. Returns whether it ran.
  template <class Checkpoint>
  bool run(Checkpoint checkpoint) {
    std::lock_guard lock(mutex_);
    return run_locked(checkpoint);
  }

  // The writer, between transactions: the same, but never waits (returns false at once while
  // another checkpoint runs).
  template <class Checkpoint>
  bool try_run(Checkpoint checkpoint) {
    std::unique_lock lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    return run_locked(checkpoint);
  }

  // What the writer saw before BEGIN; it hands it back to committed().
  struct Seen {
    std::uint64_t state = 0;
  };
  // The writer calls this before BEGIN and hands the result to committed() after its COMMIT
  // succeeded, with whether that commit wrote WAL frames. A transaction that began after the last
  // full copy was reported and wrote frames ends the pause. One that wrote none (every request in
  // the batch refused) left the WAL fully copied, so the next one may still start it over. A full
  // copy reported while the transaction ran (allowed by the second rule) keeps the pause: its
  // own pause waits for a transaction that began after it.
  // `wal_frames` is the WAL's length after this commit. It is recorded before the pause can end:
  // a pass that saw the pause ended with the old length could take a WAL the commit started over
  // for one the writer had made longer (review finding).
  Seen before_write() const { return Seen{state_.load()}; }
  void committed(Seen seen, bool wrote_frames, int wal_frames) {
    // Shorter than after the last commit: this one started the WAL over, and no checkpoint ran
    // since (the pause), so nothing of the new WAL is in the database file yet. (A restart that
    // left the WAL longer, after an idle short WAL was copied, keeps a stale count until the next
    // pass; the writer only uses it past the restart length, long after that pass.) Resetting
    // after every commit that began paused instead would hide the true count from all but one
    // batch per pass, since under load every pass reports a full copy of its snapshot.
    if (wal_frames < writer_wal_frames_.load()) backfilled_frames_.store(0);
    writer_wal_frames_.store(wal_frames);
    if (!wrote_frames || (seen.state & paused_bit) == 0) return;
    auto expected = seen.state;
    state_.compare_exchange_strong(expected, seen.state & ~paused_bit);
  }

  // True from a checkpoint that copied every frame until the writer's next transaction committed.
  bool paused() const { return (state_.load() & paused_bit) != 0; }
  // The WAL's length after the writer's last commit (0 before the first).
  int writer_wal_frames() const { return writer_wal_frames_.load(); }
  // How many of the WAL's frames the last checkpoint left in the database file (0 after the
  // writer started the WAL over): the writer's copy before a restart is the rest
  // (writer_copy_due in checkpoint_cadence.h).
  int backfilled_frames() const { return backfilled_frames_.load(); }

 private:
  static constexpr std::uint64_t paused_bit = 1;  // above it: how many full copies were reported

  template <class Checkpoint>
  bool run_locked(Checkpoint& checkpoint) {
    // full_copy_log_frames_ and the report count only change under mutex_.
    const std::uint64_t state = state_.load();
    if ((state & paused_bit) != 0 && writer_wal_frames_.load() <= full_copy_log_frames_) {
      return false;
    }
    const WalCheckpoint done = checkpoint();
    // A failed RESTART reports an unknown length (INT_MAX): no count to keep.
    if (done.ran && done.copied_frames != std::numeric_limits<int>::max()) {
      backfilled_frames_.store(done.copied_frames);
    }
    if (done.copied_all()) {
      full_copy_log_frames_ = done.log_frames;
      // Before the lock is released, so the next checkpoint sees it.
      state_.store((((state_.load() >> 1) + 1) << 1) | paused_bit);
    }
    return true;
  }

  std::mutex mutex_;
  // Paused from the start: the WAL may already be fully copied when the server opens the
  // database (migrations checkpoint at commit; another process may have copied it). The writer's
  // first transaction that writes frames ends it.
  std::atomic<std::uint64_t> state_{paused_bit};
  // The WAL's length as the last full copy saw it; none yet: no length passes the second rule.
  int full_copy_log_frames_ = std::numeric_limits<int>::max();
  std::atomic<int> writer_wal_frames_{0};
  std::atomic<int> backfilled_frames_{0};
};

}  // namespace encore
