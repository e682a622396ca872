#include "tools/output.h"

#include <algorithm>
#include <iostream>

#include "ledger/time_zone.h"

namespace encore::admin {

void print_json(const nlohmann::json& value) {
  std::cout << value.dump(2) << '\n' << std::flush;
}

void print_table(const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(headers.size());
  for (std::size_t i = 0; i < headers.size(); ++i) widths[i] = headers[i].size();
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
      line += cells[i];
      if (i + 1 < cells.size()) line.append(widths[i] - cells[i].size() + 2, ' ');
    }
    std::cout << line << '\n';
  };
  print_row(headers);
  for (const auto& row : rows) print_row(row);
  std::cout << std::flush;
}

void warn(const std::string& message) {
  std::cerr << "encore-admin: warning: " << message << '\n';
}

nlohmann::json json_time(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(format_rfc3339(*t)) : nlohmann::json(nullptr);
}

std::string human_time(const std::optional<TimePoint>& t) {
  return t ? format_rfc3339(*t) : std::string("-");
}

}  // namespace encore::admin
