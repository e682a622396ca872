// `encore-admin verify` (SPEC 2): recompute the hash chain and every member's balance from the
// entries, and report the first mismatch.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "ledger/store.h"

namespace encore {

struct VerifyReport {
  bool ok = true;
  std::int64_t entries_checked = 0;
  std::int64_t members_checked = 0;
  std::string first_mismatch;  // empty when ok
};

// `progress(entries_done)` is called every 65536 entries (for a progress bar), may be empty.
VerifyReport verify_ledger(const std::string& db_path,
                           const std::function<void(std::int64_t)>& progress = {});

}  // namespace encore
