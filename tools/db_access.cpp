#include "tools/db_access.h"

#include <filesystem>

#include "tools/commands.h"

namespace encore::admin {

void require_database(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    throw Failure("no database at " + path + "; create one with `encore-admin --db " + path +
                  " init`, or point --db (or ENCORE_DB) at an existing one");
  }
  if (std::filesystem::is_directory(path, ec)) {
    throw Failure(path + " is a directory; --db (or ENCORE_DB) must name the database file");
  }
}

std::unique_ptr<Store> open_current(const std::string& path, OpenMode mode) {
  require_database(path);
  int version = sqlite_schema_version(path);
  int latest = latest_schema_version();
  if (version < latest) {
    throw Failure("database " + path + " has schema v" + std::to_string(version) +
                  " but this encore-admin needs v" + std::to_string(latest) +
                  "; back it up, then run `encore-admin --db " + path + " migrate`");
  }
  if (version > latest) {
    throw Failure("database " + path + " has schema v" + std::to_string(version) +
                  ", newer than this encore-admin knows (v" + std::to_string(latest) +
                  "); use the encore-admin that ships with the running encore-server");
  }
  return open_sqlite_store(path, mode);
}

}  // namespace encore::admin
