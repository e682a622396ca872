#include "ledger/wal_file_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace encore {

WalFileSync::WalFileSync(const std::string& wal_path) {
  fd_ = ::open(wal_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open the WAL " + wal_path + ": " + std::strerror(errno));
  }
}

WalFileSync::~WalFileSync() {
  if (fd_ >= 0) ::close(fd_);
}

bool WalFileSync::sync() {
  std::lock_guard lock(mutex_);
  if (!failure_.empty()) return false;
  int rc = 0;
  do {
    rc = ::fdatasync(fd_);
  } while (rc != 0 && errno == EINTR);
  if (rc == 0) return true;
  failure_ = std::string("fdatasync of the WAL failed: ") + std::strerror(errno);
  return false;
}

std::string WalFileSync::failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

}  // namespace encore
