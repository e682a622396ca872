// Numbered schema migrations (schema/NNNN_*.sql), embedded at build time.
#pragma once

#include <vector>

namespace encore {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<Migration>& migrations();

}  // namespace encore
