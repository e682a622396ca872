// The WAL file of the writer VFS (ledger/writer_vfs.h): frames gathered into one buffer and
// written out in pieces of up to 64 KiB.
#include <cassert>
#include <cstring>

#include "ledger/writer_vfs_files.h"

namespace encore::writer_vfs_detail {
namespace {

// One buffer per open WAL file: 15 frames of 4 KiB pages per write instead of 2 writes per frame.
constexpr int buffer_capacity_bytes = max_write_bytes;

struct CoalescingFile {
  sqlite3_file base;           // base.pMethods == &coalescing_methods
  sqlite3_file* real;          // the underlying file, at header_bytes in the same allocation
  unsigned char* buffer;       // sqlite3_malloc'd, buffer_capacity_bytes
  sqlite3_int64 buffer_start;  // file offset of buffer[0]
  int buffer_bytes;            // bytes held; 0 when empty
  bool may_buffer;             // false: the database lacks power-safe overwrite
};
static_assert(sizeof(CoalescingFile) <= header_bytes);

CoalescingFile* as_coalescing(sqlite3_file* file) {
  return reinterpret_cast<CoalescingFile*>(file);
}

// Writes the buffer out. The buffer is emptied even when the write fails: SQLite answers the
// error by abandoning the transaction whose frames these were, and must not see them later.
int flush(CoalescingFile* f) {
  if (f->buffer_bytes == 0) return SQLITE_OK;
  const int rc = f->real->pMethods->xWrite(f->real, f->buffer, f->buffer_bytes, f->buffer_start);
  counters().wal_writes_issued.fetch_add(1, std::memory_order_relaxed);
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
  if (!f->may_buffer || !coalescing_this_thread()) {
    if (int rc = flush(f); rc != SQLITE_OK) return rc;
    counters().wal_writes_issued.fetch_add(1, std::memory_order_relaxed);
    return f->real->pMethods->xWrite(f->real, data, amount, offset);
  }
  counters().wal_writes_buffered.fetch_add(1, std::memory_order_relaxed);
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
    counters().wal_writes_issued.fetch_add(1, std::memory_order_relaxed);
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
  return f->real->pMethods->xSync(f->real, flags);
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

}  // namespace

bool& coalescing_this_thread() {
  thread_local bool enabled = false;
  return enabled;
}

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
  // Without power-safe overwrite SQLite pads each commit to a sector boundary and writes part of
  // that padding after the sync, where it would still be in the buffer when the frames are
  // published. Debian's SQLite and ext4 have it; checked rather than assumed.
  sqlite3_file* database = sqlite3_database_file_object(name);
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

}  // namespace encore::writer_vfs_detail
