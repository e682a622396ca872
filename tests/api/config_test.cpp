#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include <catch2/catch.hpp>

#include "api/config.h"

using namespace encore::api;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// A config file in a unique temp path, removed at scope exit.
struct TempConfigFile {
  std::filesystem::path path;
  explicit TempConfigFile(const std::string& text) {
    path = std::filesystem::temp_directory_path() /
           ("encore-config-test-" + std::to_string(::getpid()) + ".json");
    std::ofstream(path) << text;
  }
  ~TempConfigFile() { std::filesystem::remove(path); }
};

}  // namespace

TEST_CASE("config defaults match the SPEC") {
  const auto loaded = load_config({}, env_of({}));
  REQUIRE(loaded.ok());
  const Config& c = loaded->config;
  CHECK(c.listen_host == "127.0.0.1");
  CHECK(c.listen_port == 8443);
  CHECK(c.db_path == "encore.db");
  CHECK(c.program_path == "examples/program.json");
  CHECK(c.limits.body_limit_bytes == 64 * 1024);
  CHECK(c.limits.header_limit_bytes == 8 * 1024);
  CHECK(c.worker_threads == 2);
  CHECK(c.tls_cert_path.empty());
}

TEST_CASE("config precedence: file < env < flags") {
  const TempConfigFile file(R"({
    "listen": "0.0.0.0:9000", "db": "file.db", "program": "file.json", "worker_threads": 4,
    "log_level": "debug",
    "limits": {"body_limit_bytes": 1000, "handshake_timeout_seconds": 3, "max_connections": 7}
  })");
  const std::vector<std::string> config_arg{"--config", file.path.string()};

  SECTION("the file overrides defaults") {
    const auto loaded = load_config(config_arg, env_of({}));
    REQUIRE(loaded.ok());
    CHECK(loaded->config.listen_host == "0.0.0.0");
    CHECK(loaded->config.listen_port == 9000);
    CHECK(loaded->config.db_path == "file.db");
    CHECK(loaded->config.worker_threads == 4);
    CHECK(loaded->config.log_level == LogLevel::debug);
    CHECK(loaded->config.limits.body_limit_bytes == 1000);
    CHECK(loaded->config.limits.handshake_timeout == std::chrono::seconds(3));
    CHECK(loaded->config.limits.max_connections == 7);
    CHECK(loaded->config.limits.header_limit_bytes == 8 * 1024);  // untouched default
  }
  SECTION("env overrides the file") {
    const auto loaded = load_config(
        config_arg, env_of({{"ENCORE_DB", "env.db"}, {"ENCORE_BODY_LIMIT_BYTES", "2000"}}));
    REQUIRE(loaded.ok());
    CHECK(loaded->config.db_path == "env.db");
    CHECK(loaded->config.limits.body_limit_bytes == 2000);
    CHECK(loaded->config.program_path == "file.json");
  }
  SECTION("flags override env and the file") {
    std::vector<std::string> args = config_arg;
    args.insert(args.end(), {"--db", "flag.db", "--listen=127.0.0.1:0"});
    const auto loaded =
        load_config(args, env_of({{"ENCORE_DB", "env.db"}, {"ENCORE_LISTEN", "10.0.0.1:1"}}));
    REQUIRE(loaded.ok());
    CHECK(loaded->config.db_path == "flag.db");
    CHECK(loaded->config.listen_host == "127.0.0.1");
    CHECK(loaded->config.listen_port == 0);
  }
}

TEST_CASE("an unknown config file key is rejected and the error names the key") {
  SECTION("top level") {
    const TempConfigFile file(R"({"db": "x.db", "bodylimit": 5})");
    const auto loaded = load_config({"--config", file.path.string()}, env_of({}));
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().field == "bodylimit");
    CHECK_THAT(loaded.error().detail, Catch::Contains("bodylimit"));
  }
  SECTION("under limits") {
    const TempConfigFile file(R"({"limits": {"max_conections": 5}})");
    const auto loaded = load_config({"--config", file.path.string()}, env_of({}));
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().field == "limits.max_conections");
  }
}

TEST_CASE("invalid config values and arguments are rejected with the offending name") {
  CHECK(load_config({"--listen", "nohostport"}, env_of({})).error().field == "--listen");
  CHECK(load_config({"--listen", "127.0.0.1:70000"}, env_of({})).error().field == "--listen");
  CHECK(load_config({"--bogus"}, env_of({})).error().field == "--bogus");
  CHECK(load_config({"--db"}, env_of({})).error().field == "--db");
  CHECK(load_config({}, env_of({{"ENCORE_WORKER_THREADS", "0"}})).error().field ==
        "ENCORE_WORKER_THREADS");
  CHECK(load_config({}, env_of({{"ENCORE_LOG_LEVEL", "loud"}})).error().field ==
        "ENCORE_LOG_LEVEL");
  CHECK_FALSE(load_config({"--tls-cert", "c.pem"}, env_of({})).ok());  // key missing
  const TempConfigFile file(R"({"worker_threads": "two"})");
  CHECK(load_config({"--config", file.path.string()}, env_of({})).error().field ==
        "worker_threads");
  CHECK_FALSE(load_config({"--config", "/nonexistent/encore.json"}, env_of({})).ok());
}

TEST_CASE("--help is reported without loading anything else") {
  const auto loaded = load_config({"--help", "--config", "/nonexistent"}, env_of({}));
  REQUIRE(loaded.ok());
  CHECK(loaded->help_requested);
  CHECK_THAT(usage_text(), Catch::Contains("--listen HOST:PORT"));
  CHECK_THAT(usage_text(), Catch::Contains("ENCORE_BODY_LIMIT_BYTES"));
}
