// The single-writer lock: encore-server holds an exclusive flock on `<db path>.lock` while it
// runs; offline writers (migrate, import) take the same lock without waiting.
#pragma once

#include <memory>
#include <string>

namespace encore {

class DatabaseLock {
 public:
  // nullptr when another process holds the lock. Creates the lock file when missing.
  static std::unique_ptr<DatabaseLock> try_acquire(const std::string& db_path);
  ~DatabaseLock();
  DatabaseLock(const DatabaseLock&) = delete;
  DatabaseLock& operator=(const DatabaseLock&) = delete;

 private:
  explicit DatabaseLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace encore
