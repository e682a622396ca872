// Wires config, TLS, the listener and the worker threads; handles SIGTERM/SIGINT.
#pragma once

#include <functional>

#include "api/config.h"
#include "api/router.h"

namespace encore::api {

// What the owner of a Server does around its shutdown.
struct ShutdownHooks {
  // On an I/O thread when SIGTERM/SIGINT arrives, before the drain: ask background work whose
  // answers in-flight requests wait for to end now (it must not block).
  std::function<void()> on_signal;
  // After the I/O threads stopped, while the io_context and the sessions' registry still exist:
  // join threads that may still complete requests (their answers are queued, never run).
  std::function<void()> after_io;
};

class Server {
 public:
  Server(Config config, Router router) : config_(std::move(config)), router_(std::move(router)) {}

  // Binds, logs `listening on HOST:PORT`, serves with `worker_threads` threads until SIGTERM or
  // SIGINT, then stops accepting, closes idle connections and lets in-flight requests finish
  // (at most limits.shutdown_grace). Returns the process exit code.
  int run(const ShutdownHooks& hooks = {});

 private:
  Config config_;
  Router router_;
};

}  // namespace encore::api
