// The statement sub-journal of the writer VFS (ledger/writer_vfs.h): a growable buffer in
// memory, moved to a real temp file of the underlying VFS once it passes spill_threshold_bytes.
#include <algorithm>
#include <cstring>

#include "ledger/writer_vfs_files.h"

namespace encore::writer_vfs_detail {
namespace {

// A group commit's sub-journal holds the pages of one operation (tens of KiB). 16 MiB bounds the
// memory a long maintenance statement can take before its journal goes to disk, as SQLite's own.
constexpr sqlite3_int64 spill_threshold_bytes = 16 * 1024 * 1024;

struct MemorySubjournal {
  sqlite3_file base;      // base.pMethods == &memory_methods
  sqlite3_file* real;     // at header_bytes in the same allocation; open once spilled
  sqlite3_vfs* real_vfs;  // opens `real` when spilling
  int open_flags;         // the flags SQLite opened the sub-journal with
  bool spilled;
  unsigned char* data;  // sqlite3_realloc64'd; null until the first write
  sqlite3_int64 size_bytes;
  sqlite3_int64 capacity_bytes;
};
static_assert(sizeof(MemorySubjournal) <= header_bytes);

MemorySubjournal* as_memory(sqlite3_file* file) {
  return reinterpret_cast<MemorySubjournal*>(file);
}

// Moves the journal to a real temp file; later calls go to that file.
int spill(MemorySubjournal* j) {
  int rc = j->real_vfs->xOpen(j->real_vfs, nullptr, j->real, j->open_flags, nullptr);
  if (rc != SQLITE_OK) {
    if (j->real->pMethods != nullptr) j->real->pMethods->xClose(j->real);
    j->real->pMethods = nullptr;
    return rc;
  }
  for (sqlite3_int64 offset = 0; offset < j->size_bytes && rc == SQLITE_OK;
       offset += max_write_bytes) {
    const auto piece =
        static_cast<int>(std::min<sqlite3_int64>(max_write_bytes, j->size_bytes - offset));
    rc = j->real->pMethods->xWrite(j->real, j->data + offset, piece, offset);
  }
  if (rc != SQLITE_OK) {
    j->real->pMethods->xClose(j->real);
    j->real->pMethods = nullptr;
    return rc;
  }
  sqlite3_free(j->data);
  j->data = nullptr;
  j->size_bytes = 0;
  j->capacity_bytes = 0;
  j->spilled = true;
  counters().subjournals_spilled.fetch_add(1, std::memory_order_relaxed);
  return SQLITE_OK;
}

int x_close(sqlite3_file* file) {
  auto* j = as_memory(file);
  int rc = SQLITE_OK;
  if (j->spilled) rc = j->real->pMethods->xClose(j->real);
  sqlite3_free(j->data);
  j->data = nullptr;
  return rc;
}

int x_read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  auto* j = as_memory(file);
  if (j->spilled) return j->real->pMethods->xRead(j->real, out, amount, offset);
  const sqlite3_int64 available = std::clamp<sqlite3_int64>(j->size_bytes - offset, 0, amount);
  if (available > 0) std::memcpy(out, j->data + offset, static_cast<std::size_t>(available));
  if (available == amount) return SQLITE_OK;
  // A short read must zero the rest (the VFS contract).
  std::memset(static_cast<unsigned char*>(out) + available, 0,
              static_cast<std::size_t>(amount - available));
  return SQLITE_IOERR_SHORT_READ;
}

int x_write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  auto* j = as_memory(file);
  const sqlite3_int64 end = offset + amount;
  if (!j->spilled && end > spill_threshold_bytes) {
    if (int rc = spill(j); rc != SQLITE_OK) return rc;
  }
  if (j->spilled) return j->real->pMethods->xWrite(j->real, data, amount, offset);
  if (end > j->capacity_bytes) {
    const sqlite3_int64 capacity =
        std::min(spill_threshold_bytes, std::max<sqlite3_int64>(end, j->capacity_bytes * 2));
    auto* grown = static_cast<unsigned char*>(
        sqlite3_realloc64(j->data, static_cast<sqlite3_uint64>(capacity)));
    if (grown == nullptr) return SQLITE_IOERR_NOMEM;
    j->data = grown;
    j->capacity_bytes = capacity;
  }
  if (offset > j->size_bytes) {
    std::memset(j->data + j->size_bytes, 0, static_cast<std::size_t>(offset - j->size_bytes));
  }
  std::memcpy(j->data + offset, data, static_cast<std::size_t>(amount));
  j->size_bytes = std::max(j->size_bytes, end);
  return SQLITE_OK;
}

int x_truncate(sqlite3_file* file, sqlite3_int64 size) {
  auto* j = as_memory(file);
  if (j->spilled) return j->real->pMethods->xTruncate(j->real, size);
  j->size_bytes = std::min(j->size_bytes, size);  // the capacity is kept for the next operation
  return SQLITE_OK;
}

int x_sync(sqlite3_file* file, int flags) {
  auto* j = as_memory(file);
  return j->spilled ? j->real->pMethods->xSync(j->real, flags) : SQLITE_OK;
}

int x_file_size(sqlite3_file* file, sqlite3_int64* size) {
  auto* j = as_memory(file);
  if (j->spilled) return j->real->pMethods->xFileSize(j->real, size);
  *size = j->size_bytes;
  return SQLITE_OK;
}

// A sub-journal is private to its connection: no locks.
int x_lock(sqlite3_file*, int) {
  return SQLITE_OK;
}
int x_unlock(sqlite3_file*, int) {
  return SQLITE_OK;
}
int x_check_reserved_lock(sqlite3_file*, int* out) {
  *out = 0;
  return SQLITE_OK;
}

int x_file_control(sqlite3_file* file, int op, void* arg) {
  auto* j = as_memory(file);
  return j->spilled ? j->real->pMethods->xFileControl(j->real, op, arg) : SQLITE_NOTFOUND;
}

int x_sector_size(sqlite3_file* file) {
  auto* j = as_memory(file);
  return j->spilled ? j->real->pMethods->xSectorSize(j->real) : 4096;
}

int x_device_characteristics(sqlite3_file* file) {
  auto* j = as_memory(file);
  return j->spilled ? j->real->pMethods->xDeviceCharacteristics(j->real) : 0;
}

const sqlite3_io_methods memory_methods = {
    1,  // iVersion: no shared memory, no mmap
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
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    nullptr,
};

}  // namespace

int open_memory_subjournal(sqlite3_vfs* base, sqlite3_file* file, int flags, int* out_flags) {
  auto* j = as_memory(file);
  j->real = underlying_file(file);
  j->real->pMethods = nullptr;
  j->real_vfs = base;
  j->open_flags = flags;
  j->spilled = false;
  j->data = nullptr;
  j->size_bytes = 0;
  j->capacity_bytes = 0;
  if (out_flags != nullptr) *out_flags = flags;
  j->base.pMethods = &memory_methods;
  counters().subjournals_opened.fetch_add(1, std::memory_order_relaxed);
  return SQLITE_OK;
}

}  // namespace encore::writer_vfs_detail
