// The SQLite VFS of read-write connections: the default VFS, except for two kinds of file that
// the writer's group commits write many small pieces to (docs/PERFORMANCE.md):
//
// - WAL files (ledger/coalescing_wal_file.cpp): SQLite writes each frame with two pwrite calls,
//   the 24-byte header and the 4 KiB page. They are gathered into one buffer and reach the kernel
//   as one write per 64 KiB of contiguous frames, but only during a COMMIT wrapped in
//   CoalescedWalCommit (below). The buffer is written out before every other operation on the
//   file (sync, read, truncate, size, file control, close) and before any write that does not
//   extend it. SQLite syncs the WAL at every commit when `synchronous = FULL`, and only then
//   publishes the new frames to other connections (the wal-index), so nothing another connection
//   can read is held back; between two syncs the kernel may reorder or drop unsynced writes
//   anyway, so a crash with frames in the buffer is one SQLite already recovers from. WAL files of
//   databases without power-safe overwrite (SQLite then pads commits after the sync) are never
//   buffered. SqliteStore checks `synchronous = FULL` on every read-write connection.
//
// - Statement sub-journals (ledger/memory_subjournal.cpp): every operation of a group commit runs
//   in a savepoint, and SQLite copies each page the operation changes to the sub-journal first.
//   Past 64 KiB SQLite moves that journal to a temp file, which then took two pwrite calls per
//   page for the rest of the batch. Here the "temp file" is memory, up to 16 MiB, and only a
//   larger one (a long maintenance statement) goes to a real temp file.
#pragma once

#include <sqlite3.h>

#include <cstdint>

namespace encore {

// Registers the VFS once (thread-safe) and returns its name for sqlite3_open_v2.
const char* writer_vfs();

// WAL writes are gathered only inside this scope, around a COMMIT on `db` (a connection opened
// with writer_vfs() and synchronous = FULL): there every frame SQLite writes is followed by the
// commit's sync, which writes the buffer out before SQLite publishes the frames. Outside it (cache
// spills during statements, other connections, tools) writes go straight through, so no buffered
// frame can outlive a rolled-back transaction and later land on frames another connection
// committed. Leaving the scope drops what a failed COMMIT left in the buffer.
class CoalescedWalCommit {
 public:
  explicit CoalescedWalCommit(sqlite3* db);
  ~CoalescedWalCommit();
  CoalescedWalCommit(const CoalescedWalCommit&) = delete;
  CoalescedWalCommit& operator=(const CoalescedWalCommit&) = delete;

 private:
  sqlite3* db_;
};

// Process-wide counts, for tests and diagnostics.
struct WriterVfsStats {
  std::uint64_t wal_writes_buffered = 0;  // WAL writes taken into a buffer (inside a COMMIT)
  std::uint64_t wal_writes_issued = 0;    // writes that reached the underlying VFS
  std::uint64_t subjournals_opened = 0;   // sub-journals kept in memory
  std::uint64_t subjournals_spilled = 0;  // of those, moved to a real temp file past the cap
};
WriterVfsStats writer_vfs_stats();

}  // namespace encore
