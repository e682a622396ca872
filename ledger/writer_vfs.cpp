// The writer VFS (ledger/writer_vfs.h): the default VFS, with WAL files that gather the frames
// of a COMMIT into one buffer written out in pieces of up to 64 KiB.
#include "ledger/writer_vfs.h"

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

namespace encore {
namespace {

constexpr const char* vfs_name = "encore-writer";

// Where the underlying VFS's file object starts inside one of our file allocations (the VFS's
// szOsFile is this plus the underlying szOsFile).
constexpr std::size_t header_bytes = 64;

struct Counters {
  std::atomic<std::uint64_t> wal_writes_buffered{0};
  std::atomic<std::uint64_t> wal_writes_issued{0};
  std::atomic<std::uint64_t> wal_syncs_deferred{0};
  std::atomic<std::uint64_t> wal_syncs_issued{0};
};
Counters counters;
std::atomic<FailWalSyncs> fail_wal_syncs{FailWalSyncs::none};  // for tests

sqlite3_vfs* base_vfs = nullptr;  // the default VFS; set once, before registration
sqlite3_vfs vfs{};

sqlite3_file* underlying_file(sqlite3_file* ours) {
  return reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(ours) + header_bytes);
}

// This thread's COMMIT inside CoalescedWalCommit: the database file whose WAL may be buffered
// (null outside one), and whether that WAL's sync is left to the caller. Per database, not a
// per-thread switch: another connection, or an attached database, committing on this thread
// inside the scope writes straight through and syncs, and only the scope's own WAL buffer is
// dropped after a failed COMMIT.
struct CommitScope {
  sqlite3_file* database = nullptr;
  bool defer_sync = false;
  bool sync_deferred = false;  // set by x_sync when it skipped the fdatasync
};
CommitScope& commit_scope_this_thread() {
  thread_local CommitScope scope;
  return scope;
}

// One buffer per open WAL file: 15 frames of 4 KiB pages per write instead of 2 writes per frame.
// No larger: the unix VFS masks every write's length to 17 bits (seekAndWriteFd:
// `nBuf &= 0x1ffff`), so a 128 KiB write would silently become a 0-byte one (SQLITE_FULL).
constexpr int buffer_capacity_bytes = 64 * 1024;

struct CoalescingFile {
  sqlite3_file base;           // base.pMethods == &coalescing_methods
  sqlite3_file* real;          // the underlying file, at header_bytes in the same allocation
  unsigned char* buffer;       // sqlite3_malloc'd, buffer_capacity_bytes
  sqlite3_int64 buffer_start;  // file offset of buffer[0]
  int buffer_bytes;            // bytes held; 0 when empty
  bool may_buffer;             // false: the database lacks power-safe overwrite
  bool synced_once;            // a sync reached the underlying file (its first syncs the directory)
  bool header_unsynced;        // the WAL header (offset 0) was written since the last real sync
  sqlite3_file* database;      // the database file this WAL belongs to
};
static_assert(sizeof(CoalescingFile) <= header_bytes);
static_assert(header_bytes % alignof(std::max_align_t) == 0);

CoalescingFile* as_coalescing(sqlite3_file* file) {
  return reinterpret_cast<CoalescingFile*>(file);
}

// Writes the buffer out. The buffer is emptied even when the write fails: SQLite answers the
// error by abandoning the transaction whose frames these were, and must not see them later.
int flush(CoalescingFile* f) {
  if (f->buffer_bytes == 0) return SQLITE_OK;
  const int rc = f->real->pMethods->xWrite(f->real, f->buffer, f->buffer_bytes, f->buffer_start);
  counters.wal_writes_issued.fetch_add(1, std::memory_order_relaxed);
  f->buffer_bytes = 0;
  return rc;
}

int x_close(sqlite3_file* file) {
  auto* f = as_coalescing(file);
  const int flush_rc = flush(f);
  const int close_rc = f->real->pMethods->xClose(f->real);
  sqlite3_free(f->buffer);
  f->buffer = nullptr;
  return flush_rc != SQLITE_OK ? flush_rc : close_rc;
}

int x_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  auto* f = as_coalescing(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xRead(f->real, out, amount, offset);
}

int x_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  auto* f = as_coalescing(file);
  assert(amount > 0);
  // A new WAL header: SQLite is starting the WAL over, and its next sync must reach the disk
  // before any new frame overwrites an old one (x_sync).
  if (offset == 0) f->header_unsynced = true;
  if (!f->may_buffer || f->database != commit_scope_this_thread().database) {
    if (int rc = flush(f); rc != SQLITE_OK) return rc;
    counters.wal_writes_issued.fetch_add(1, std::memory_order_relaxed);
    return f->real->pMethods->xWrite(f->real, data, amount, offset);
  }
  counters.wal_writes_buffered.fetch_add(1, std::memory_order_relaxed);
  const bool extends_buffer = f->buffer_bytes > 0 && offset == f->buffer_start + f->buffer_bytes;
  if (extends_buffer && amount <= buffer_capacity_bytes - f->buffer_bytes) {
    std::memcpy(f->buffer + f->buffer_bytes, data, static_cast<std::size_t>(amount));
    f->buffer_bytes += amount;
    return SQLITE_OK;
  }
  // Not contiguous (SQLite rewriting a frame of the open transaction in place, or a new WAL
  // header at offset 0) or full: what is buffered goes first, so writes keep their order.
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  if (amount >= buffer_capacity_bytes) {
    counters.wal_writes_issued.fetch_add(1, std::memory_order_relaxed);
    return f->real->pMethods->xWrite(f->real, data, amount, offset);
  }
  std::memcpy(f->buffer, data, static_cast<std::size_t>(amount));
  f->buffer_start = offset;
  f->buffer_bytes = amount;
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  auto* f = as_coalescing(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xTruncate(f->real, size);
}

int x_sync(sqlite3_file* file, int flags) {
  auto* f = as_coalescing(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  CommitScope& scope = commit_scope_this_thread();
  // Never deferred: the first sync of each WAL file object (the unix VFS syncs the directory of
  // a WAL it created then, which an fdatasync of the file alone, WalFileSync, would not), and the
  // sync of a new WAL header. SQLite syncs the header of a restarted WAL before it writes frames
  // over the old ones: if new frames reached the disk and the header did not, a crash would leave
  // the old header in front of a partly overwritten WAL, and recovery would replay old frames
  // (long since copied into the database) over newer pages.
  if (scope.defer_sync && f->may_buffer && f->database == scope.database && f->synced_once &&
      !f->header_unsynced) {
    scope.sync_deferred = true;
    counters.wal_syncs_deferred.fetch_add(1, std::memory_order_relaxed);
    return SQLITE_OK;
  }
  if (const FailWalSyncs fail = fail_wal_syncs.load(std::memory_order_relaxed);
      fail == FailWalSyncs::all ||
      (fail == FailWalSyncs::outside_commits && f->database != scope.database)) {
    return SQLITE_IOERR_FSYNC;
  }
  counters.wal_syncs_issued.fetch_add(1, std::memory_order_relaxed);
  const int rc = f->real->pMethods->xSync(f->real, flags);
  if (rc == SQLITE_OK) {
    f->synced_once = true;
    f->header_unsynced = false;
  }
  return rc;
}

int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  auto* f = as_coalescing(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileSize(f->real, size);
}

int x_lock(sqlite3_file* file, int level) {
  auto* f = as_coalescing(file);
  return f->real->pMethods->xLock(f->real, level);
}

int x_unlock(sqlite3_file* file, int level) {
  auto* f = as_coalescing(file);
  return f->real->pMethods->xUnlock(f->real, level);
}

int x_check_reserved_lock(sqlite3_file* file, int* out) {
  auto* f = as_coalescing(file);
  return f->real->pMethods->xCheckReservedLock(f->real, out);
}

int x_file_control(sqlite3_file* file, int op, void* arg) {
  auto* f = as_coalescing(file);
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  return f->real->pMethods->xFileControl(f->real, op, arg);
}

int x_sector_size(sqlite3_file* file) {
  auto* f = as_coalescing(file);
  return f->real->pMethods->xSectorSize(f->real);
}

int x_device_characteristics(sqlite3_file* file) {
  auto* f = as_coalescing(file);
  return f->real->pMethods->xDeviceCharacteristics(f->real);
}

// SQLite never maps shared memory or pages of a WAL file; these only keep the table complete.
int x_shm_map(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  auto* f = as_coalescing(file);
  if (f->real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMMAP;
  return f->real->pMethods->xShmMap(f->real, region, size, extend, out);
}

int x_shm_lock(sqlite3_file* file, int offset, int n, int flags) {
  auto* f = as_coalescing(file);
  if (f->real->pMethods->iVersion < 2) return SQLITE_IOERR_SHMLOCK;
  return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}

void x_shm_barrier(sqlite3_file* file) {
  auto* f = as_coalescing(file);
  if (f->real->pMethods->iVersion >= 2) f->real->pMethods->xShmBarrier(f->real);
}

int x_shm_unmap(sqlite3_file* file, int delete_flag) {
  auto* f = as_coalescing(file);
  if (f->real->pMethods->iVersion < 2) return SQLITE_OK;
  return f->real->pMethods->xShmUnmap(f->real, delete_flag);
}

int x_fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  auto* f = as_coalescing(file);
  *out = nullptr;  // "no mapping": SQLite falls back to xRead
  if (int rc = flush(f); rc != SQLITE_OK) return rc;
  if (f->real->pMethods->iVersion < 3) return SQLITE_OK;
  return f->real->pMethods->xFetch(f->real, offset, amount, out);
}

int x_unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  auto* f = as_coalescing(file);
  if (f->real->pMethods->iVersion < 3) return SQLITE_OK;
  return f->real->pMethods->xUnfetch(f->real, offset, page);
}

const sqlite3_io_methods coalescing_methods = {
    3,  // iVersion
    x_close,
    x_read,
    x_write,
    x_truncate,
    x_sync,
    x_file_size,
    x_lock,
    x_unlock,
    x_check_reserved_lock,
    x_file_control,
    x_sector_size,
    x_device_characteristics,
    x_shm_map,
    x_shm_lock,
    x_shm_barrier,
    x_shm_unmap,
    x_fetch,
    x_unfetch,
};

void discard_wal_buffer(sqlite3_file* file) {
  if (file == nullptr || file->pMethods != &coalescing_methods) return;
  as_coalescing(file)->buffer_bytes = 0;
}

int open_coalescing_wal(sqlite3_vfs* base, const char* name, sqlite3_file* file, int flags,
                        int* out_flags) {
  auto* f = as_coalescing(file);
  f->base.pMethods = nullptr;
  f->real = underlying_file(file);
  f->real->pMethods = nullptr;
  f->buffer = nullptr;
  f->buffer_start = 0;
  f->buffer_bytes = 0;
  f->synced_once = false;
  f->header_unsynced = false;
  // Without power-safe overwrite SQLite pads each commit to a sector boundary and writes part of
  // that padding after the sync, where it would still be in the buffer when the frames are
  // published. Debian's SQLite and ext4 have it; checked rather than assumed.
  sqlite3_file* database = sqlite3_database_file_object(name);
  f->database = database;
  f->may_buffer = database != nullptr && database->pMethods != nullptr &&
                  (database->pMethods->xDeviceCharacteristics(database) &
                   SQLITE_IOCAP_POWERSAFE_OVERWRITE) != 0;
  int rc = base->xOpen(base, name, f->real, flags, out_flags);
  if (rc == SQLITE_OK) {
    f->buffer = static_cast<unsigned char*>(sqlite3_malloc(buffer_capacity_bytes));
    if (f->buffer == nullptr) rc = SQLITE_NOMEM;
  }
  if (rc != SQLITE_OK) {
    // pMethods stays null, so SQLite will not call our xClose: close the real file here.
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    return rc;
  }
  f->base.pMethods = &coalescing_methods;
  return SQLITE_OK;
}

int x_open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) != 0) {
    return open_coalescing_wal(base_vfs, name, file, flags, out_flags);
  }
  // Database, journals, temp files: the underlying VFS's own file object, unchanged (the
  // allocation is larger than it needs).
  return base_vfs->xOpen(base_vfs, name, file, flags, out_flags);
}

void register_vfs() {
  base_vfs = sqlite3_vfs_find(nullptr);
  if (base_vfs == nullptr) throw std::runtime_error("SQLite has no default VFS");
  // Every other method (delete, access, full path, randomness, time, system calls) is the
  // default VFS's own, with its own pAppData.
  vfs = *base_vfs;
  vfs.zName = vfs_name;
  vfs.pNext = nullptr;
  vfs.szOsFile = static_cast<int>(header_bytes) + base_vfs->szOsFile;
  vfs.xOpen = x_open;
  if (int rc = sqlite3_vfs_register(&vfs, 0); rc != SQLITE_OK) {
    throw std::runtime_error(std::string("cannot register the writer VFS: ") + sqlite3_errstr(rc));
  }
}

}  // namespace

namespace {

sqlite3_file* file_pointer(sqlite3* db, int op) {
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(db, "main", op, &file) != SQLITE_OK) return nullptr;
  return file;
}

}  // namespace

CoalescedWalCommit::CoalescedWalCommit(sqlite3* db, WalSyncMode mode) : db_(db) {
  CommitScope& scope = commit_scope_this_thread();
  previous_target_ = scope.database;
  previous_defer_sync_ = scope.defer_sync;
  previous_sync_deferred_ = scope.sync_deferred;
  scope.database = file_pointer(db_, SQLITE_FCNTL_FILE_POINTER);
  scope.defer_sync = mode == WalSyncMode::deferred;
  scope.sync_deferred = false;
}

bool CoalescedWalCommit::sync_deferred() const {
  return commit_scope_this_thread().sync_deferred;
}

bool CoalescedWalCommit::committed() {
  committed_ = true;
  sqlite3_file* wal = file_pointer(db_, SQLITE_FCNTL_JOURNAL_POINTER);
  if (wal == nullptr || wal->pMethods != &coalescing_methods) return true;
  auto* f = as_coalescing(wal);
  if (f->buffer_bytes == 0) return true;
  flush(f);
  return false;
}

CoalescedWalCommit::~CoalescedWalCommit() {
  CommitScope& scope = commit_scope_this_thread();
  scope.database = previous_target_;
  scope.defer_sync = previous_defer_sync_;
  scope.sync_deferred = previous_sync_deferred_;
  if (committed_) return;
  // A failed COMMIT: what is left in the buffer belongs to frames SQLite abandoned.
  if (sqlite3_file* wal = file_pointer(db_, SQLITE_FCNTL_JOURNAL_POINTER); wal != nullptr) {
    discard_wal_buffer(wal);
  }
}

const char* writer_vfs() {
  static std::once_flag once;
  std::call_once(once, register_vfs);
  return vfs_name;
}

void writer_vfs_fail_wal_syncs_for_testing(FailWalSyncs which) {
  fail_wal_syncs.store(which, std::memory_order_relaxed);
}

WriterVfsStats writer_vfs_stats() {
  return {counters.wal_writes_buffered.load(std::memory_order_relaxed),
          counters.wal_writes_issued.load(std::memory_order_relaxed),
          counters.wal_syncs_deferred.load(std::memory_order_relaxed),
          counters.wal_syncs_issued.load(std::memory_order_relaxed)};
}

}  // namespace encore
