// docs/openapi.yaml is kept true (SPEC 5): its (method, path) set equals the routes the server
// registers, in both directions.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <utility>

#include <catch2/catch.hpp>

#include "api/auth.h"
#include "api/idempotency.h"
#include "api/metrics.h"
#include "api/router.h"
#include "api/routes.h"
#include "api/routes_reminders.h"
#include "api/routes_reports.h"
#include "api/system_routes.h"
#include "api/write_queue.h"
#include "ledger/clock.h"
#include "ledger/ledger.h"
#include "ledger/program.h"

namespace {

using RouteSet = std::set<std::pair<std::string, std::string>>;  // (method, path)

// Line-wise read of the `paths:` section: `  /path:` opens a path item, `    get:` (etc.) an
// operation. No YAML library is needed for this subset.
RouteSet documented_routes(const std::filesystem::path& file) {
  std::ifstream in(file);
  REQUIRE(in.good());
  const std::regex path_line(R"(^  (/[^:\s]*):\s*$)");
  const std::regex method_line(R"(^    (get|put|post|delete|options|head|patch|trace):\s*$)");
  RouteSet out;
  bool in_paths = false;
  std::string current;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line[0] != ' ' && line[0] != '#') {
      in_paths = line.rfind("paths:", 0) == 0;
      current.clear();
      continue;
    }
    if (!in_paths) continue;
    std::smatch m;
    if (std::regex_match(line, m, path_line)) {
      current = m[1];
    } else if (std::regex_match(line, m, method_line)) {
      REQUIRE(!current.empty());
      out.emplace(m[1], current);
    }
  }
  return out;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

RouteSet registered_routes() {
  using namespace encore;
  using namespace encore::api;
  std::string dir = (std::filesystem::temp_directory_path() / "encore-openapi-XXXXXX").string();
  REQUIRE(::mkdtemp(dir.data()) != nullptr);
  RouteSet out;
  {
    auto program = Program::load(ENCORE_REPO_DIR "/examples/program.json");
    REQUIRE(program);
    SystemClock clock;
    auto ledger = Ledger::open(dir + "/encore.db", std::move(program).value(), clock);
    WriteQueue writes(*ledger, 16, 16);
    KeyCache keys(*ledger);
    IdempotencyGuard idempotency;
    Services services{*ledger, writes, keys, idempotency, metrics()};
    Router router;
    add_system_routes(router, [] { return true; });
    add_ledger_routes(router, services);
    ReportRunner reports(1);
    add_reminder_routes(router, services, nullptr, reports);
    add_report_routes(router, services, reports);
    for (const auto& r : router.routes()) {
      out.emplace(lower(std::string(http::to_string(r.method))), r.pattern);
    }
    writes.stop();
  }
  std::filesystem::remove_all(dir);
  return out;
}

}  // namespace

TEST_CASE("docs/openapi.yaml documents exactly the routes the server registers", "[openapi]") {
  const auto documented = documented_routes(ENCORE_REPO_DIR "/docs/openapi.yaml");
  const auto registered = registered_routes();
  REQUIRE(documented.size() > 10);
  REQUIRE(registered.size() > 10);
  for (const auto& [method, path] : registered) {
    INFO("served but not in docs/openapi.yaml: " << method << " " << path);
    CHECK(documented.count({method, path}) == 1);
  }
  for (const auto& [method, path] : documented) {
    INFO("in docs/openapi.yaml but not served: " << method << " " << path);
    CHECK(registered.count({method, path}) == 1);
  }
}
