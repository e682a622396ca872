#include "tools/server_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tools/commands.h"

namespace encore::admin {

namespace {

std::string lock_path(const std::string& db_path) {
  return db_path + ".lock";
}

// Returns the locked descriptor, -1 when the directory does not exist (nothing can hold it).
int take(const std::string& db_path) {
  auto path = lock_path(db_path);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (fd < 0) {
    if (errno == ENOENT) return -1;
    throw Failure("cannot open " + path + ": " + std::strerror(errno) +
                  "; check the permissions of the database directory");
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      throw Failure(
          "database is held by a running encore-server; use --server, or stop the "
          "server first (" +
          path + " is locked)");
    }
    throw Failure("cannot lock " + path + ": " + std::strerror(err));
  }
  return fd;
}

}  // namespace

OfflineLock::OfflineLock(const std::string& db_path) : fd_(take(db_path)) {}

OfflineLock::~OfflineLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the descriptor releases the flock
}

bool held_by_server(const std::string& db_path) {
  int fd = ::open(lock_path(db_path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases the probe's lock when it got one
  return held;
}

}  // namespace encore::admin
