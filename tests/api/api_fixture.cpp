#include "tests/api/api_fixture.h"

#include <stdlib.h>

#include <atomic>
#include <stdexcept>

#include <catch2/catch.hpp>

#include "ledger/api_keys.h"
#include "ledger/clock.h"
#include "ledger/store.h"

namespace encore::test {

ApiServer::ApiServer(std::vector<std::string> extra_args) : extra_args_(std::move(extra_args)) {
  std::string pattern = (std::filesystem::temp_directory_path() / "encore-apit-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  dir_ = pattern;
  db_ = (dir_ / "encore.db").string();
  {
    auto store = open_sqlite_store(db_, OpenMode::read_write);
    const auto now = SystemClock{}.now();
    auto create = [&](Role role, const std::string& name) {
      auto key = create_api_key(*store, role, name, now);
      if (!key) throw std::runtime_error("create_api_key failed: " + name);
      return key->key;
    };
    keys_.pos = create(Role::pos, "pos-1");
    keys_.app = create(Role::app, "app-1");
    keys_.admin = create(Role::admin, "admin-1");
    keys_.revoked = create(Role::pos, "pos-revoked");
    if (!revoke_api_key(*store, "pos-revoked", now)) throw std::runtime_error("revoke failed");
  }
  restart();
}

ApiServer::~ApiServer() {
  process_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void ApiServer::restart() {
  process_.reset();
  ServerOptions options;
  options.extra_args = {"--db", db_};  // later flags win over the harness's temp db
  options.extra_args.insert(options.extra_args.end(), extra_args_.begin(), extra_args_.end());
  process_ = std::make_unique<ServerProcess>(options);
}

HttpResponse Client::send(const std::string& method, const std::string& target,
                          const std::optional<std::string>& body,
                          const std::optional<std::string>& idempotency_key,
                          std::vector<std::pair<std::string, std::string>> headers) {
  HttpRequest req;
  req.method = method;
  req.target = target;
  if (!key_.empty()) req.headers.emplace_back("Authorization", "Bearer " + key_);
  if (body) {
    req.body = *body;
    bool has_type = false;
    for (const auto& [name, value] : headers) has_type |= (name == "Content-Type");
    if (!has_type) req.headers.emplace_back("Content-Type", "application/json");
  }
  if (idempotency_key) req.headers.emplace_back("Idempotency-Key", *idempotency_key);
  for (auto& h : headers) req.headers.push_back(std::move(h));
  try {
    if (!connection_) connection_ = std::make_unique<HttpsConnection>(port_);
    return connection_->request(req);
  } catch (...) {
    connection_.reset();
    throw;
  }
}

HttpResponse Client::post(const std::string& target, const nlohmann::json& body) {
  return send("POST", target, body.dump(), unique_key());
}

HttpResponse Client::patch(const std::string& target, const nlohmann::json& body) {
  return send("PATCH", target, body.dump());
}

std::string unique_key(const std::string& prefix) {
  static std::atomic<std::uint64_t> counter{0};
  return prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
}

nlohmann::json body_json(const HttpResponse& res) {
  auto doc = nlohmann::json::parse(res.body, nullptr, false);
  if (doc.is_discarded()) throw std::runtime_error("response is not JSON: " + res.body);
  return doc;
}

nlohmann::json ok_json(const HttpResponse& res, unsigned status) {
  INFO(res.body);
  REQUIRE(res.status == status);
  REQUIRE(res.header("content-type") == "application/json");
  return body_json(res);
}

Points DbFacts::balance_of(const std::string& member_id) const {
  auto it = balances.find(member_id);
  return it == balances.end() ? 0 : it->second;
}

DbFacts read_db(const std::string& db_path) {
  DbFacts facts;
  auto store = open_sqlite_store(db_path, OpenMode::read_only);
  store->scan_entries([&](const Entry& e) {
    ++facts.entries;
    facts.balances[e.member_id] += e.points;
    if (e.kind == EntryKind::earn && e.order_id) ++facts.earn_entries_by_order[*e.order_id];
    return true;
  });
  return facts;
}

}  // namespace encore::test
