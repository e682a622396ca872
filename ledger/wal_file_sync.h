// Makes a database's WAL durable from a thread other than the writer's: the second half of a
// COMMIT run with WalSyncMode::deferred (ledger/writer_vfs.h). The writer publishes batch N and
// starts batch N+1 while another thread fdatasyncs the WAL and only then acknowledges batch N.
//
// The descriptor is opened once, when the ledger opens, and kept: after a failed fdatasync Linux
// reports the error once to each descriptor that was open when the write-back failed, so a
// descriptor opened later could not see it. The WAL file stays the same file while the writer's
// connection is open (SQLite deletes it only when the last connection closes; restarts and
// truncation keep the inode).
#pragma once

#include <mutex>
#include <string>

namespace encore {

class WalFileSync {
 public:
  // Opens `wal_path` read-only; throws std::runtime_error when it cannot.
  explicit WalFileSync(const std::string& wal_path);
  ~WalFileSync();
  WalFileSync(const WalFileSync&) = delete;
  WalFileSync& operator=(const WalFileSync&) = delete;

  // fdatasync: every write to the WAL that returned before this call is durable when it returns
  // true. False after a failure, and for ever after one: the kernel may have dropped the pages it
  // could not write, so later commits that follow them in the WAL are not durable either (a
  // crash recovers the WAL only up to its first bad frame). Thread-safe.
  bool sync();
  // The reason of the failure, empty while sync() succeeds.
  std::string failure() const;

 private:
  mutable std::mutex mutex_;
  int fd_ = -1;
  std::string failure_;
};

}  // namespace encore
