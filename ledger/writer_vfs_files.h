// Internal to ledger/writer_vfs*.cpp: the two file kinds of the writer VFS (ledger/writer_vfs.h).
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace encore::writer_vfs_detail {

// Where the underlying VFS's file object starts inside one of our file allocations (the VFS's
// szOsFile is this plus the underlying szOsFile).
constexpr std::size_t header_bytes = 64;

// The unix VFS masks every write's length to 17 bits (seekAndWriteFd: `nBuf &= 0x1ffff`), so a
// 128 KiB write would silently become a 0-byte one (SQLITE_FULL). No write we issue is larger.
constexpr int max_write_bytes = 64 * 1024;

struct Counters {
  std::atomic<std::uint64_t> wal_writes_buffered{0};
  std::atomic<std::uint64_t> wal_writes_issued{0};
  std::atomic<std::uint64_t> subjournals_opened{0};
  std::atomic<std::uint64_t> subjournals_spilled{0};
};
Counters& counters();

inline sqlite3_file* underlying_file(sqlite3_file* ours) {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(ours) + header_bytes);
}

// True while this thread runs a COMMIT inside CoalescedWalCommit.
bool& coalescing_this_thread();

// Drops what `file` (any file object) holds buffered, if it is one of our WAL files.
void discard_wal_buffer(sqlite3_file* file);

// Each opens `file` (an allocation of the VFS's szOsFile bytes); on failure file->pMethods is null.
int open_coalescing_wal(sqlite3_vfs* base, const char* name, sqlite3_file* file, int flags,
                        int* out_flags);
int open_memory_subjournal(sqlite3_vfs* base, sqlite3_file* file, int flags, int* out_flags);

}  // namespace encore::writer_vfs_detail
