// Wires config, TLS, the listener and the worker threads; handles SIGTERM/SIGINT.
#pragma once

#include "api/config.h"
#include "api/router.h"

namespace encore::api {

class Server {
 public:
  Server(Config config, Router router) : config_(std::move(config)), router_(std::move(router)) {}

  // Binds, logs `listening on HOST:PORT`, serves with `worker_threads` threads until SIGTERM or
  // SIGINT, then stops accepting, closes idle connections and lets in-flight requests finish
  // (at most limits.shutdown_grace). Returns the process exit code.
  int run();

 private:
  Config config_;
  Router router_;
};

}  // namespace encore::api
