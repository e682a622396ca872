// encore-server holds an exclusive flock on `<db path>.lock` while it runs, so that it stays the
// single writer. Offline commands that must not run beside it (migrate, import) take the same lock
// without waiting, and hold it until they finish so a server cannot start halfway through.
#pragma once

#include <string>

namespace encore::admin {

class OfflineLock {
 public:
  // Throws Failure("database is held by a running encore-server; use --server ...") when the lock
  // is taken. Creates the lock file when missing.
  explicit OfflineLock(const std::string& db_path);
  ~OfflineLock();
  OfflineLock(const OfflineLock&) = delete;
  OfflineLock& operator=(const OfflineLock&) = delete;

 private:
  int fd_ = -1;
};

// True when a running encore-server holds the lock of `db_path` (probes without keeping it).
bool held_by_server(const std::string& db_path);

}  // namespace encore::admin
