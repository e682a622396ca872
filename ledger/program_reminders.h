// The `reminders` block of the program file (SPEC 7); split from program.cpp to keep both short.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "ledger/program.h"
#include "ledger/result.h"

namespace encore {

inline constexpr std::size_t max_locales = 64;
inline constexpr std::size_t max_template_bytes = 4096;
inline constexpr std::size_t max_id_bytes = 64;

Result<Reminders> parse_reminders(const nlohmann::json& value, const std::string& path);

}  // namespace encore
