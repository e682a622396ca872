// encore-server: parses the configuration, registers routes, serves until SIGTERM.
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "api/config.h"
#include "api/log.h"
#include "api/router.h"
#include "api/server.h"
#include "api/system_routes.h"

int main(int argc, char** argv) {
  using namespace encore::api;
  // Writes to a closed socket must fail with EPIPE, not kill the process.
  std::signal(SIGPIPE, SIG_IGN);
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto loaded = load_config(args, process_env());
  if (!loaded) {
    log_error("invalid configuration",
              {{"field", loaded.error().field}, {"detail", loaded.error().detail}});
    std::fputs(usage_text().c_str(), stderr);
    return 2;
  }
  if (loaded->help_requested) {
    std::fputs(usage_text().c_str(), stdout);
    return 0;
  }
  const Config& config = loaded->config;
  log_info("starting encore-server", {{"db", config.db_path},
                                      {"program", config.program_path},
                                      {"worker_threads", config.worker_threads}});
  Router router;
  add_system_routes(router);
  // Business routes (/v1/members, /v1/purchases, ...) are registered here by their modules.
  Server server(config, std::move(router));
  return server.run();
}
