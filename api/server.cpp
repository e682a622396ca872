#include "api/server.h"

#include <csignal>
#include <exception>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include "api/listener.h"
#include "api/log.h"
#include "api/session.h"
#include "api/tls.h"

namespace encore::api {
namespace {

namespace net = boost::asio;

// Exceptions must not escape a worker thread (std::terminate); handlers catch their own, so
// anything reaching here is a bug worth an error line, and the thread keeps serving.
void run_worker(net::io_context& ioc) {
  while (true) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      log_error("unhandled exception in I/O thread", {{"error", e.what()}});
    }
  }
}

// Polls until every session is gone or the grace period ends, then stops the io_context.
void stop_when_drained(net::steady_timer& timer, ConnectionRegistry& registry, net::io_context& ioc,
                       std::chrono::steady_clock::time_point deadline) {
  if (registry.size() == 0) return ioc.stop();
  if (std::chrono::steady_clock::now() >= deadline) {
    log_warn("shutdown grace period over; closing remaining connections",
             {{"connections", registry.size()}});
    return ioc.stop();
  }
  timer.expires_after(std::chrono::milliseconds(20));
  timer.async_wait([&timer, &registry, &ioc, deadline](boost::system::error_code) {
    stop_when_drained(timer, registry, ioc, deadline);
  });
}

}  // namespace

int Server::run(const ShutdownHooks& hooks) {
  set_log_level(config_.log_level);
  // Declaration order matters: sessions unregister from `registry` and use `tls` while `ioc`
  // destroys its pending handlers, so both are declared (and outlive) before it.
  ConnectionRegistry registry(config_.limits.max_connections);
  std::unique_ptr<net::ssl::context> tls;
  net::io_context ioc(static_cast<int>(config_.worker_threads));
  // Installed first: a SIGTERM during startup is queued for the drain below, never the default
  // action (death by signal, exit status 143).
  net::signal_set signals(ioc, SIGINT, SIGTERM);
  auto tls_result = make_server_tls_context(config_);
  if (!tls_result) {
    log_error("tls setup failed", {{"detail", tls_result.error().detail}});
    return 1;
  }
  tls = std::move(*tls_result);
  auto listener = std::make_shared<Listener>(ioc, *tls, router_, config_.limits, registry);
  auto bound = listener->open(config_.listen_host, config_.listen_port);
  if (!bound) {
    log_error("cannot listen", {{"detail", bound.error().detail}});
    return 1;
  }
  net::steady_timer drain_timer(ioc);
  signals.async_wait([&](boost::system::error_code ec, int signal_number) {
    if (ec) return;
    log_info("shutting down", {{"signal", signal_number}, {"connections", registry.size()}});
    // The drain must start whatever the hook does.
    try {
      if (hooks.on_signal) hooks.on_signal();
    } catch (const std::exception& e) {
      log_error("shutdown hook failed", {{"error", e.what()}});
    }
    listener->stop();
    registry.drain_all();
    stop_when_drained(drain_timer, registry, ioc,
                      std::chrono::steady_clock::now() + config_.limits.shutdown_grace);
  });

  // Tests and orchestration wait for this exact line; it is logged once the socket listens.
  log_info("listening on " + endpoint_text(*bound),
           {{"port", bound->port()}, {"worker_threads", config_.worker_threads}});
  listener->run();

  std::vector<std::thread> workers;
  for (unsigned i = 1; i < config_.worker_threads; ++i)
    workers.emplace_back([&ioc] { run_worker(ioc); });
  run_worker(ioc);
  for (auto& t : workers) t.join();
  // A completion posted from now on is queued on the stopped io_context and destroyed with it,
  // after the sessions it holds have unregistered: never run on a destroyed one.
  if (hooks.after_io) hooks.after_io();
  log_info("stopped");
  return 0;
}

}  // namespace encore::api
