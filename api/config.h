// encore-server configuration. Precedence, lowest to highest: built-in defaults, the JSON file
// given by --config, ENCORE_* environment variables, command-line flags.
//
// Config file keys (unknown keys are rejected, naming the key):
//   listen "HOST:PORT", tls_cert, tls_key, db, program, worker_threads, log_level, cache_members,
//   maintenance_chunk_members, idempotency_retention_days,
//   limits: {body_limit_bytes, header_limit_bytes, handshake_timeout_seconds,
//            read_timeout_seconds, idle_timeout_seconds, max_connections, shutdown_grace_seconds}
// Environment: ENCORE_LISTEN, ENCORE_TLS_CERT, ENCORE_TLS_KEY, ENCORE_DB, ENCORE_PROGRAM,
//   ENCORE_WORKER_THREADS, ENCORE_LOG_LEVEL, ENCORE_CACHE_MEMBERS,
//   ENCORE_MAINTENANCE_CHUNK_MEMBERS, ENCORE_IDEMPOTENCY_RETENTION_DAYS, ENCORE_BODY_LIMIT_BYTES,
//   ENCORE_HEADER_LIMIT_BYTES, ENCORE_HANDSHAKE_TIMEOUT_SECONDS, ENCORE_READ_TIMEOUT_SECONDS,
//   ENCORE_IDLE_TIMEOUT_SECONDS, ENCORE_MAX_CONNECTIONS, ENCORE_SHUTDOWN_GRACE_SECONDS.
// Flags: --db PATH --program PATH --listen HOST:PORT --tls-cert PEM --tls-key PEM --config FILE
//   --help (also accepted as --flag=value).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/log.h"
#include "ledger/result.h"

namespace encore::api {

struct Limits {
  std::size_t body_limit_bytes = 64 * 1024;
  std::size_t header_limit_bytes = 8 * 1024;
  std::chrono::seconds handshake_timeout{10};  // TCP accept -> TLS handshake done
  std::chrono::seconds idle_timeout{30};       // waiting for the next request's header
  std::chrono::seconds read_timeout{30};       // reading a request body once its header arrived
  std::size_t max_connections = 1024;          // over the cap, new connections are closed
  std::chrono::seconds shutdown_grace{10};     // SIGTERM: how long in-flight requests may finish
};

struct Config {
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 8443;
  std::string tls_cert_path;  // both empty: a development certificate is generated
  std::string tls_key_path;
  std::string db_path = "encore.db";
  std::string program_path = "examples/program.json";
  Limits limits;
  unsigned worker_threads = 2;
  // Members whose live state is kept in memory (ledger/member_cache.h); 0 turns the cache off.
  std::size_t cache_members = 262'144;
  // Members an expiry run or a tier recompute handles per write transaction: other writes queue
  // behind one piece at a time (about 20 ms for 1,000 members), never behind the whole job.
  std::size_t maintenance_chunk_members = 1000;
  // Idempotency records older than this are forgotten (SPEC 5: kept at least 30 days).
  std::chrono::days idempotency_retention{31};
  LogLevel log_level = LogLevel::info;
};

// Returns the value of an environment variable, nullopt when unset (injectable for tests).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

struct LoadedConfig {
  Config config;
  bool help_requested = false;
};

// `args` excludes argv[0]. Errors carry ErrorCode::invalid_request, the offending key or flag as
// `field`, and a sentence for the operator.
Result<LoadedConfig> load_config(const std::vector<std::string>& args, const EnvLookup& env);

std::string usage_text();

}  // namespace encore::api
