// Human output (aligned tables, plain lines) vs machine output (`--json`). Data goes to stdout;
// errors and progress go to stderr.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ledger/clock.h"

namespace encore::admin {

void print_json(const nlohmann::json& value);

// A table with a header row and columns padded to their widest cell.
void print_table(const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows);

// `encore-admin: warning: ...` on stderr.
void warn(const std::string& message);

// RFC 3339 UTC, or null / "-" for an absent time.
nlohmann::json json_time(const std::optional<TimePoint>& t);
std::string human_time(const std::optional<TimePoint>& t);

}  // namespace encore::admin
