// The SQLite VFS of read-write connections: the default VFS, except for WAL files. SQLite writes
// each WAL frame with two pwrite calls (the 24-byte header and the 4 KiB page), ~20 calls per
// purchase; in a purchase run `pwrite` was a fifth of the writer thread's samples
// (docs/PERFORMANCE.md). During a COMMIT wrapped in CoalescedWalCommit (below) the frames are
// gathered into one buffer and reach the kernel as one write per 64 KiB of contiguous frames.
//
// The buffer is written out before every other operation on the file (sync, read, truncate,
// size, file control, fetch, close) and before any write that does not extend it. SQLite syncs
// the WAL at every commit when `synchronous = FULL`, and only then publishes the new frames to
// other connections (the wal-index), so nothing another connection can read is held back. Between
// two syncs the kernel may reorder or drop unsynced writes anyway, so a crash with frames in the
// buffer is one SQLite already recovers from. WAL files of databases without power-safe overwrite
// (SQLite then pads commits after the sync) are never buffered. SqliteStore checks
// `synchronous = FULL` on every read-write connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>

namespace encore {

// Registers the VFS once (thread-safe) and returns its name for sqlite3_open_v2.
const char* writer_vfs();

// WAL writes are gathered only inside this scope, around a COMMIT on `db` (a connection opened
// with writer_vfs() and synchronous = FULL), and only those of `db`'s own WAL: there every frame
// SQLite writes is followed by the commit's sync, which writes the buffer out before SQLite
// publishes the frames. Outside it (cache spills during statements, other connections, tools)
// writes go straight through, so no buffered frame can outlive a rolled-back transaction and later
// land on frames another connection committed. Leaving the scope without committed() drops what a
// failed COMMIT left in the buffer.
//
// With WalSyncMode::deferred the COMMIT's WAL syncs write the buffer out but skip the fdatasync
// (except the first sync of the connection's WAL file, which also syncs its directory, and the
// sync of a restarted WAL's new header, which must be on disk before new frames overwrite old):
// SQLite publishes the frames, so other connections read them, before they are durable. The
// caller must make the WAL durable (WalFileSync, ledger/wal_file_sync.h) before it tells anyone
// the transaction committed. Only for a connection that never checkpoints inside COMMIT (its WAL
// hook replaced, Store::take_over_wal_restarts): a checkpoint's own WAL sync, which must precede
// its copy into the database file, would be deferred too. Checkpoints on other connections or
// outside the scope sync for real.
enum class WalSyncMode { now, deferred };

class CoalescedWalCommit {
 public:
  explicit CoalescedWalCommit(sqlite3* db, WalSyncMode mode = WalSyncMode::now);
  ~CoalescedWalCommit();
  CoalescedWalCommit(const CoalescedWalCommit&) = delete;
  CoalescedWalCommit& operator=(const CoalescedWalCommit&) = delete;

  // Call once the COMMIT succeeded. Its sync has written the buffer out; false means it had not
  // (a commit without a sync: synchronous lowered on the connection), so frames SQLite already
  // published were only in memory. They are written out now; the caller treats it as a broken
  // invariant.
  [[nodiscard]] bool committed();
  // True when a sync of this scope's WAL was skipped (WalSyncMode::deferred): the caller owes it.
  bool sync_deferred() const;

 private:
  sqlite3* db_;
  // An enclosing scope's state on this thread, restored at the end.
  sqlite3_file* previous_target_ = nullptr;
  bool previous_defer_sync_ = false;
  bool previous_sync_deferred_ = false;
  bool committed_ = false;
};

// Process-wide counts, for tests and diagnostics.
struct WriterVfsStats {
  std::uint64_t wal_writes_buffered = 0;  // WAL writes taken into a buffer (inside a COMMIT)
  std::uint64_t wal_writes_issued = 0;    // writes that reached the underlying VFS
  std::uint64_t wal_syncs_deferred = 0;   // WAL syncs left to the caller (WalSyncMode::deferred)
  std::uint64_t wal_syncs_issued = 0;     // WAL syncs that reached the underlying VFS
};
WriterVfsStats writer_vfs_stats();

// Tests only: WAL syncs through this VFS that would reach the disk (not deferred ones), in this
// process, fail with SQLITE_IOERR_FSYNC (a disk that refuses fsync): none, only those outside the
// calling thread's CoalescedWalCommit (checkpoints), or all.
enum class FailWalSyncs { none, outside_commits, all };
void writer_vfs_fail_wal_syncs_for_testing(FailWalSyncs which);

}  // namespace encore
