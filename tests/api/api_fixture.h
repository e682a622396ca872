// Shared setup for the business-route end-to-end tests: a temp database with one API key per role
// (plus a revoked one), the real encore-server on it, and a small JSON client.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "ledger/types.h"
#include "tests/api/https_client.h"
#include "tests/api/server_process.h"

namespace encore::test {

struct ApiKeys {
  std::string pos;
  std::string app;
  std::string admin;
  std::string revoked;  // a pos key, revoked before the server starts
};

// A temp directory holding encore.db with keys, and the server running on it.
class ApiServer {
 public:
  explicit ApiServer(std::vector<std::string> extra_args = {});
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  std::uint16_t port() const { return process_->port(); }
  ServerProcess& process() { return *process_; }
  const std::string& db() const { return db_; }
  const ApiKeys& keys() const { return keys_; }
  // Starts a new server process on the same database (after terminate() or kill9()).
  void restart();

 private:
  std::filesystem::path dir_;
  std::string db_;
  std::vector<std::string> extra_args_;
  ApiKeys keys_;
  std::unique_ptr<ServerProcess> process_;
};

// A JSON client bound to one API key (empty: no Authorization header), over one keep-alive
// connection that is reopened after an I/O error.
class Client {
 public:
  Client(std::uint16_t port, std::string key) : port_(port), key_(std::move(key)) {}

  HttpResponse send(const std::string& method, const std::string& target,
                    const std::optional<std::string>& body = std::nullopt,
                    const std::optional<std::string>& idempotency_key = std::nullopt,
                    std::vector<std::pair<std::string, std::string>> headers = {});
  HttpResponse get(const std::string& target) { return send("GET", target); }
  // POST with a JSON body and a fresh unique Idempotency-Key.
  HttpResponse post(const std::string& target, const nlohmann::json& body);
  HttpResponse patch(const std::string& target, const nlohmann::json& body);

 private:
  std::uint16_t port_;
  std::string key_;
  std::unique_ptr<HttpsConnection> connection_;
};

// A fresh idempotency key, unique within the test process.
std::string unique_key(const std::string& prefix = "k");

nlohmann::json body_json(const HttpResponse& res);
// The JSON body of a response that must have `status` and be application/json (REQUIREd).
nlohmann::json ok_json(const HttpResponse& res, unsigned status);

// Reads the database directly (the server may be running: WAL readers do not block).
struct DbFacts {
  std::int64_t entries = 0;
  std::map<std::string, std::int64_t> earn_entries_by_order;
  Points balance_of(const std::string& member_id) const;
  std::map<std::string, Points> balances;  // sum of entry points per member
};
DbFacts read_db(const std::string& db_path);

}  // namespace encore::test
