#include "ledger/writer_vfs.h"

#include <mutex>
#include <stdexcept>
#include <string>

#include "ledger/writer_vfs_files.h"

namespace encore {
namespace writer_vfs_detail {

Counters& counters() {
  static Counters instance;
  return instance;
}

}  // namespace writer_vfs_detail

namespace {

constexpr const char* vfs_name = "encore-writer";

sqlite3_vfs* base_vfs = nullptr;  // the default VFS; set once, before registration
sqlite3_vfs vfs{};

int x_open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  if ((flags & SQLITE_OPEN_WAL) != 0) {
    return writer_vfs_detail::open_coalescing_wal(base_vfs, name, file, flags, out_flags);
  }
  if ((flags & SQLITE_OPEN_SUBJOURNAL) != 0) {
    return writer_vfs_detail::open_memory_subjournal(base_vfs, file, flags, out_flags);
  }
  // Database, rollback journals, temp databases: the underlying VFS's own file object, unchanged
  // (the allocation is larger than it needs).
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
  vfs.szOsFile = static_cast<int>(writer_vfs_detail::header_bytes) + base_vfs->szOsFile;
  vfs.xOpen = x_open;
  if (int rc = sqlite3_vfs_register(&vfs, 0); rc != SQLITE_OK) {
    throw std::runtime_error(std::string("cannot register the writer VFS: ") + sqlite3_errstr(rc));
  }
}

}  // namespace

CoalescedWalCommit::CoalescedWalCommit(sqlite3* db) : db_(db) {
  writer_vfs_detail::coalescing_this_thread() = true;
}

CoalescedWalCommit::~CoalescedWalCommit() {
  writer_vfs_detail::coalescing_this_thread() = false;
  // After a successful COMMIT the sync has emptied the buffer; after a failed one, what is left
  // belongs to frames SQLite abandoned.
  sqlite3_file* wal = nullptr;
  if (sqlite3_file_control(db_, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) == SQLITE_OK) {
    writer_vfs_detail::discard_wal_buffer(wal);
  }
}

const char* writer_vfs() {
  static std::once_flag once;
  std::call_once(once, register_vfs);
  return vfs_name;
}

WriterVfsStats writer_vfs_stats() {
  auto& c = writer_vfs_detail::counters();
  return {c.wal_writes_buffered.load(std::memory_order_relaxed),
          c.wal_writes_issued.load(std::memory_order_relaxed),
          c.subjournals_opened.load(std::memory_order_relaxed),
          c.subjournals_spilled.load(std::memory_order_relaxed)};
}

}  // namespace encore
