// End-to-end: the real encore-server binary, spawned per test, over real HTTPS.
#include <openssl/ssl.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/api/https_client.h"
#include "tests/api/server_process.h"

using namespace encore::test;
using namespace std::chrono_literals;

namespace {

ServerOptions with_env(std::string name, std::string value) {
  ServerOptions options;
  options.env.emplace_back(std::move(name), std::move(value));
  return options;
}

void require_serving(std::uint16_t port) {
  const auto res = https_get(port, "/healthz");
  REQUIRE(res.status == 200);
}

}  // namespace

TEST_CASE("GET /healthz is 200 JSON with an X-Request-Id", "[e2e]") {
  ServerProcess server;
  const auto res = https_get(server.port(), "/healthz");
  CHECK(res.status == 200);
  CHECK(res.header("content-type") == "application/json");
  CHECK(nlohmann::json::parse(res.body) == nlohmann::json{{"status", "ok"}});
  const std::string id = res.header("x-request-id");
  CHECK(id.size() == 16);
  CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
  // The access log carries the same id and the route pattern; never a header value.
  REQUIRE(server.wait_for_output(id, 5s));
  CHECK(server.output().find(R"("route":"/healthz")") != std::string::npos);
}

TEST_CASE("GET /v1/noop is a 200 JSON benchmark baseline and unknown paths are 404 problems",
          "[e2e]") {
  ServerProcess server;
  HttpsConnection connection(server.port());
  CHECK(connection.get("/v1/noop").status == 200);
  const auto missing = connection.get("/v1/nope");
  CHECK(missing.status == 404);
  CHECK(missing.header("content-type") == "application/problem+json");
}

TEST_CASE("the development certificate is written next to the db with key mode 0600 and reused",
          "[e2e]") {
  ServerProcess server;
  const auto key = server.db_path().string() + ".dev-key.pem";
  const auto cert = server.db_path().string() + ".dev-cert.pem";
  REQUIRE(std::filesystem::exists(cert));
  const auto perms = std::filesystem::status(key).permissions();
  CHECK((perms & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  CHECK(server.output().find("development certificate") != std::string::npos);
  const auto read = [](const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string first_cert = read(cert);
  REQUIRE(server.terminate() == 0);
  ServerOptions again;  // later flags win: point a second server at the first one's db
  again.extra_args = {"--db", server.db_path().string()};
  ServerProcess second(again);
  CHECK(read(cert) == first_cert);
  CHECK(https_get(second.port(), "/healthz").status == 200);
}

TEST_CASE("TLS 1.1 clients are refused while TLS 1.2 and 1.3 are accepted", "[e2e]") {
  ServerProcess server;
  CHECK(try_tls_handshake(server.port(), TLS1_VERSION, TLS1_1_VERSION).has_value());
  CHECK_FALSE(try_tls_handshake(server.port(), TLS1_2_VERSION, TLS1_2_VERSION).has_value());
  CHECK_FALSE(try_tls_handshake(server.port(), TLS1_3_VERSION, TLS1_3_VERSION).has_value());
  require_serving(server.port());
}

TEST_CASE("plain HTTP on the TLS port is refused and the server keeps serving", "[e2e]") {
  ServerProcess server;
  const auto reply =
      raw_tcp_exchange(server.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 10s);
  REQUIRE(reply.has_value());  // the server closed the connection
  CHECK(reply->find("HTTP/1.1 200") == std::string::npos);
  require_serving(server.port());
}

TEST_CASE("a body over 64 KiB gets 413 problem payload_too_large", "[e2e]") {
  ServerProcess server;
  const std::string body(65 * 1024, 'x');
  const auto res = https_request(
      server.port(), {"POST", "/v1/noop", {{"Content-Type", "application/json"}}, body});
  CHECK(res.status == 413);
  CHECK(res.header("content-type") == "application/problem+json");
  CHECK(nlohmann::json::parse(res.body)["code"] == "payload_too_large");
  CHECK(res.header("connection") == "close");
  require_serving(server.port());
}

TEST_CASE("headers over 8 KiB are rejected and the server keeps serving", "[e2e]") {
  ServerProcess server;
  const auto res = https_request(
      server.port(), {"GET", "/healthz", {{"X-Padding", std::string(9 * 1024, 'a')}}, {}});
  CHECK((res.status == 431 || res.status == 400));
  CHECK(res.header("content-type") == "application/problem+json");
  require_serving(server.port());
}

TEST_CASE("keep-alive: three requests on one connection", "[e2e]") {
  ServerProcess server;
  HttpsConnection connection(server.port());
  std::set<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    const auto res = connection.get("/healthz");  // throws if the server closed the connection
    CHECK(res.status == 200);
    CHECK(res.header("connection") != "close");
    ids.insert(res.header("x-request-id"));
  }
  CHECK(ids.size() == 3);
}

TEST_CASE("SIGTERM exits 0 after `listening on` and closes idle keep-alive connections", "[e2e]") {
  ServerProcess server;
  HttpsConnection idle(server.port());
  CHECK(idle.get("/healthz").status == 200);
  const auto start = std::chrono::steady_clock::now();
  CHECK(server.terminate() == 0);
  // Idle connections are closed at once rather than waiting out the 10 s grace period.
  CHECK(std::chrono::steady_clock::now() - start < 8s);
  const std::string out = server.output();
  CHECK(out.find(R"("msg":"listening on 127.0.0.1:)" + std::to_string(server.port()) + "\"") !=
        std::string::npos);
  CHECK(out.find("shutting down") != std::string::npos);
}

TEST_CASE("SIGTERM right after `listening on` is a clean drain with exit status 0", "[e2e]") {
  ServerProcess server;
  CHECK(server.terminate() == 0);
  CHECK(server.output().find(R"("msg":"stopped")") != std::string::npos);
}

TEST_CASE("a client that sends nothing is dropped after the handshake timeout", "[e2e]") {
  ServerProcess server(with_env("ENCORE_HANDSHAKE_TIMEOUT_SECONDS", "1"));
  const auto start = std::chrono::steady_clock::now();
  // Served meanwhile: the silent client must not block anyone.
  std::optional<std::string> silent;
  std::thread slow([&] { silent = raw_tcp_exchange(server.port(), "", 15s); });
  require_serving(server.port());
  slow.join();
  CHECK(silent.has_value());  // closed by the server, not by our 15 s timeout
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed >= 900ms);
  CHECK(elapsed < 10s);
  require_serving(server.port());
}

TEST_CASE("connections over max_connections are refused while existing ones are served", "[e2e]") {
  ServerProcess server(with_env("ENCORE_MAX_CONNECTIONS", "1"));
  HttpsConnection first(server.port());
  CHECK(first.get("/healthz").status == 200);
  CHECK_THROWS(HttpsConnection(server.port(), 5s));
  CHECK(first.get("/healthz").status == 200);
}
