// Opening the database file for offline commands, with errors that say what to do.
#pragma once

#include <memory>
#include <string>

#include "ledger/store.h"

namespace encore::admin {

// Throws Failure when no database exists at `path`.
void require_database(const std::string& path);

// Opens an existing database whose schema is the one this build knows. Refuses (Failure) a missing
// file, an older schema (run `migrate`) or a newer one (upgrade encore-admin), so that no command
// other than init and migrate changes the schema.
std::unique_ptr<Store> open_current(const std::string& path, OpenMode mode);

// Commits on success; rolls back when destroyed without commit (an exception or a refusal).
class WriteTransaction {
 public:
  explicit WriteTransaction(Store& store) : store_(store) { store_.begin_write(); }
  ~WriteTransaction() {
    if (!done_) store_.rollback();
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  void commit() {
    store_.commit();
    done_ = true;
  }

 private:
  Store& store_;
  bool done_ = false;
};

}  // namespace encore::admin
