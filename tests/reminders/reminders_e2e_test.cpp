// Reminders end-to-end (SPEC 7): the real server plans, signs and delivers to a loopback HTTPS
// receiver trusting a self-signed CA (`ca_file`); retries, dead letters, no duplicates on a
// second send, nothing lost to kill -9, a missed daily run made up at start, the file sink and
// the conversion report.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "api/tls.h"
#include "ledger/api_keys.h"
#include "ledger/ledger.h"
#include "ledger/reminder_store.h"
#include "ledger/time_zone.h"
#include "tests/api/https_client.h"
#include "tests/api/server_process.h"
#include "tests/reminders/webhook_receiver.h"

using namespace encore;
using namespace encore::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string secret = "whsec_test_0123456789";

struct Env {
  std::filesystem::path dir;
  std::string db;
  std::string program;
  std::string admin_key;

  explicit Env(const json& sink) {
    static int counter = 0;
    dir = std::filesystem::temp_directory_path() /
          ("encore-rem-e2e-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::create_directories(dir);
    db = (dir / "encore.db").string();
    program = (dir / "program.json").string();
    json doc = {
        {"currency", "EUR"},
        {"timezone", "UTC"},
        {"earn", {{"points_per_unit", 1}, {"unit_minor", 100}}},
        {"expiry", {{"policy", "fixed_term"}, {"days", 365}}},
        {"reminders",
         {{"rules",
           {{{"id", "exp"},
             {"kind", "expiring_soon"},
             {"days_before", {30, 7}},
             {"min_points", 100}},
            {{"id", "winback"}, {"kind", "dormant"}, {"days", 60}, {"min_points", 100}},
            {{"id", "second"}, {"kind", "second_purchase"}, {"days", 14}}}},
          {"min_gap_days", 7},
          {"max_per_30_days", 4},
          {"attribution_days", 14},
          {"templates",
           {{"en",
             {{"expiring_soon", "You have {expiring_points} points expiring on {expires_on}"}}},
            {"zh-CN", {{"expiring_soon", "您有{expiring_points}积分将于{expires_on}过期"}}}}},
          {"sink", sink}}}};
    std::ofstream(program) << doc.dump(2);
    auto store = open_sqlite_store(db, OpenMode::read_write);
    store->begin_write();
    admin_key = create_api_key(*store, Role::admin, "admin", SystemClock().now()).value().key;
    store->commit();
  }
  ~Env() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }

  ServerOptions options(bool schedule = false) const {
    ServerOptions o;
    o.program_path = program;
    o.extra_args = {"--db", db};
    o.env = {{"ENCORE_WEBHOOK_SECRET", secret},
             {"ENCORE_REMINDER_RETRY_BASE_MS", "200"},
             {"ENCORE_REMINDER_SCHEDULE", schedule ? "on" : "off"}};
    return o;
  }
};

json webhook_sink(const WebhookReceiver& r, int max_attempts = 4) {
  return {{"kind", "webhook"},
          {"url", r.url()},
          {"secret_env", "ENCORE_WEBHOOK_SECRET"},
          {"max_attempts", max_attempts},
          {"ca_file", r.ca_file()},
          {"timeout_seconds", 5}};
}

struct Client {
  std::uint16_t port;
  std::string key;
  HttpResponse call(const std::string& method, const std::string& target, const json& body = {}) {
    HttpRequest req{method, target, {{"Authorization", "Bearer " + key}}, {}};
    if (!body.is_null()) {
      req.headers.emplace_back("Content-Type", "application/json");
      req.body = body.dump();
    }
    return https_request(port, req);
  }
  // Every page of the outbox. By value: a range-for over `ok(...).at("reminders")` would iterate
  // a destroyed temporary.
  json outbox() {
    json all = json::array();
    std::string target = "/v1/admin/reminders?limit=1000";
    for (;;) {
      json page = ok("GET", target);
      for (auto& r : page.at("reminders")) all.push_back(std::move(r));
      if (page.at("next_cursor").is_null()) return all;
      target = "/v1/admin/reminders?limit=1000&cursor=" + page.at("next_cursor").get<std::string>();
    }
  }
  json ok(const std::string& method, const std::string& target, const json& body = {}) {
    auto res = call(method, target, body);
    INFO(method << " " << target << " -> " << res.status << " " << res.body);
    REQUIRE(res.status / 100 == 2);
    return json::parse(res.body);
  }
  void member(const std::string& id, bool opt_in = true) {
    ok("POST", "/v1/members", {{"member_id", id}, {"marketing_opt_in", opt_in}});
  }
  void buy(const std::string& member, const std::string& order, std::int64_t amount,
           std::optional<std::chrono::hours> ago = std::nullopt) {
    json body = {
        {"member_id", member}, {"order_id", order}, {"amount_minor", amount}, {"currency", "EUR"}};
    if (ago) body["occurred_at"] = format_rfc3339(SystemClock().now() - *ago);
    ok("POST", "/v1/purchases", body);
  }
};

constexpr auto day = std::chrono::hours{24};

}  // namespace

TEST_CASE("reminders reach a signed HTTPS webhook with retries, once each, and convert",
          "[e2e][reminders]") {
  WebhookReceiver receiver(std::filesystem::temp_directory_path().string(), secret);
  // The first two attempts of every reminder fail; z1's always fail (dead letter).
  receiver.set_policy([](const json& body, int attempt) -> unsigned {
    if (body.at("member_id") == "z1") return 500;
    return attempt <= 2 ? 503 : 200;
  });
  Env env(webhook_sink(receiver));
  ServerProcess server(env.options());
  Client c{server.port(), env.admin_key};
  c.member("e1");  // points earned 360 days ago expire within 7 days
  c.buy("e1", "o-e1", 20000, 360 * day);
  c.member("d1");  // dormant 90 days (and one purchase: the gap keeps `second` out today)
  c.buy("d1", "o-d1", 20000, 90 * day);
  c.member("s1");  // one purchase 20 days ago
  c.buy("s1", "o-s1", 1000, 20 * day);
  c.member("z1");  // dormant, but its receiver always refuses
  c.buy("z1", "o-z1", 20000, 90 * day);
  c.member("n1", false);  // no consent
  c.buy("n1", "o-n1", 20000, 90 * day);
  c.member("x1");  // two recent purchases
  c.buy("x1", "o-x1a", 20000);
  c.buy("x1", "o-x1b", 20000);

  auto plan = c.ok("GET", "/v1/admin/reminders/plan");
  CHECK(plan.at("count") == 4);
  CHECK(c.ok("GET", "/v1/admin/reminders").at("reminders").empty());  // dry run wrote nothing

  auto run = c.ok("POST", "/v1/admin/reminders/run");
  REQUIRE(run.at("planned") == 4);
  {
    // The outbox reads in pages: the next page starts after the previous one's last row.
    auto first = c.ok("GET", "/v1/admin/reminders?limit=3");
    REQUIRE(first.at("reminders").size() == 3);
    REQUIRE(first.at("next_cursor").is_string());
    auto rest = c.ok(
        "GET", "/v1/admin/reminders?limit=3&cursor=" + first.at("next_cursor").get<std::string>());
    REQUIRE(rest.at("reminders").size() == 1);
    CHECK(rest.at("next_cursor").is_null());
    std::set<std::string> ids;
    for (const auto* page : {&first, &rest}) {
      for (const auto& r : page->at("reminders"))
        ids.insert(r.at("reminder_id").get<std::string>());
    }
    CHECK(ids.size() == 4);
    CHECK(c.ok("GET", "/v1/admin/reminders").at("next_cursor").is_null());  // 4 < 200
    // A last page that is full still says it is the last.
    auto half = c.ok("GET", "/v1/admin/reminders?limit=2");
    REQUIRE(half.at("next_cursor").is_string());
    auto other_half = c.ok(
        "GET", "/v1/admin/reminders?limit=2&cursor=" + half.at("next_cursor").get<std::string>());
    CHECK(other_half.at("reminders").size() == 2);
    CHECK(other_half.at("next_cursor").is_null());
    for (const auto& [query, field] : {std::pair{"limit=0", "limit"},
                                       {"limit=1001", "limit"},
                                       {"cursor=abc", "cursor"},
                                       {"cursor=0", "cursor"}}) {
      auto bad = c.call("GET", std::string("/v1/admin/reminders?") + query);
      CHECK(bad.status == 400);
      CHECK(json::parse(bad.body).at("field") == field);
    }
  }
  REQUIRE(receiver.wait_accepted(3, 60s));
  // z1 dead-letters after max_attempts = 4.
  auto outbox_done = [&] {
    for (const auto& r : c.outbox()) {
      if (r.at("state") == "pending") return false;
    }
    return true;
  };
  for (int i = 0; i < 120 && !outbox_done(); ++i) std::this_thread::sleep_for(250ms);
  REQUIRE(outbox_done());
  REQUIRE(c.outbox().size() == 4);

  auto counts = receiver.counts();
  CHECK(counts.bad_signatures == 0);
  CHECK(counts.accepted == 3);
  CHECK(counts.duplicates == 0);
  auto accepted = receiver.accepted();
  std::map<std::string, std::string> rule_by_member;
  for (const auto& [id, body] : accepted) {
    CHECK(id.starts_with("rem_"));
    for (const char* field : {"reminder_id", "member_id", "rule_id", "kind", "locale", "message",
                              "points", "expiring_points", "expires_on", "created_at"}) {
      CHECK(body.contains(field));
    }
    rule_by_member[body.at("member_id")] = body.at("rule_id");
    CHECK(receiver.attempts().at(id) == 3);
  }
  CHECK(rule_by_member ==
        std::map<std::string, std::string>{{"d1", "winback"}, {"e1", "exp"}, {"s1", "second"}});
  for (const auto& [id, body] : accepted) {
    if (body.at("member_id") == "e1") {
      CHECK(body.at("expiring_points") == 200);
      CHECK(body.at("message").get<std::string>().starts_with("You have 200 points expiring on "));
    }
  }
  for (const auto& r : c.outbox()) {
    if (r.at("member_id") == "z1") {
      CHECK(r.at("state") == "failed");
      CHECK(r.at("attempts") == 4);
    } else {
      CHECK(r.at("state") == "delivered");
    }
  }

  SECTION("a second send delivers no duplicates") {
    CHECK(c.ok("POST", "/v1/admin/reminders/run").at("planned") == 0);
    std::this_thread::sleep_for(1500ms);
    CHECK(receiver.counts().accepted == 3);
    CHECK(receiver.counts().duplicates == 0);
    CHECK(c.ok("GET", "/v1/admin/reminders/plan").at("count") == 0);
  }
  SECTION("the conversion report follows purchases and redemptions after delivery") {
    c.buy("d1", "o-d1-back", 5000);                                          // converts winback
    c.ok("POST", "/v1/redemptions", {{"member_id", "e1"}, {"points", 50}});  // converts exp
    auto report = c.ok("GET", "/v1/reports/reminders");
    CHECK(report.at("attribution_days") == 14);
    std::map<std::string, json> by_rule;
    for (const auto& r : report.at("rules")) by_rule[r.at("rule_id")] = r;
    REQUIRE(by_rule.size() == 3);
    CHECK(by_rule["exp"].at("planned") == 1);
    CHECK(by_rule["exp"].at("delivered") == 1);
    CHECK(by_rule["exp"].at("converted") == 1);
    CHECK(by_rule["exp"].at("conversion_rate_bp") == 10000);
    CHECK(by_rule["exp"].at("points_redeemed_after") == 50);
    CHECK(by_rule["winback"].at("planned") == 2);
    CHECK(by_rule["winback"].at("delivered") == 1);
    CHECK(by_rule["winback"].at("failed") == 1);
    CHECK(by_rule["winback"].at("converted") == 1);
    CHECK(by_rule["winback"].at("conversion_rate_bp") == 10000);
    CHECK(by_rule["winback"].at("points_redeemed_after") == 0);
    CHECK(by_rule["second"].at("delivered") == 1);
    CHECK(by_rule["second"].at("converted") == 0);
    CHECK(by_rule["second"].at("conversion_rate_bp") == 0);
  }
}

TEST_CASE("kill -9 during delivery loses no reminder", "[e2e][reminders]") {
  WebhookReceiver receiver(std::filesystem::temp_directory_path().string(), secret);
  receiver.set_delay(150ms);
  Env env(webhook_sink(receiver));
  std::set<std::string> planned;
  {
    ServerProcess server(env.options());
    Client c{server.port(), env.admin_key};
    for (int i = 0; i < 30; ++i) {
      const std::string id = "m" + std::to_string(i);
      c.member(id);
      c.buy(id, "o" + std::to_string(i), 20000, 90 * day);
    }
    auto run = c.ok("POST", "/v1/admin/reminders/run");
    REQUIRE(run.at("planned") == 30);
    for (const auto& r : run.at("reminders")) planned.insert(r.at("reminder_id"));
    REQUIRE(receiver.wait_accepted(5, 30s));
    server.kill9();
  }
  const auto before = receiver.accepted().size();
  CHECK(before < 30);
  ServerProcess again(env.options());  // same db: the outbox still holds the rest
  REQUIRE(receiver.wait_accepted(30, 60s));
  std::set<std::string> got;
  for (const auto& [id, body] : receiver.accepted()) got.insert(id);
  CHECK(got == planned);
  CHECK(receiver.counts().bad_signatures == 0);
  CHECK(receiver.counts().duplicates <= 1);  // at most the one in flight when killed
}

TEST_CASE("a daily run missed while the server was down is made up at start", "[e2e][reminders]") {
  WebhookReceiver receiver(std::filesystem::temp_directory_path().string(), secret);
  Env env(webhook_sink(receiver));
  {
    // Written while no server runs; nothing has planned reminders in this db yet.
    ServerProcess setup(env.options(false));
    Client c{setup.port(), env.admin_key};
    c.member("d1");
    c.buy("d1", "o1", 20000, 90 * day);
    setup.terminate();
  }
  ServerProcess server(env.options(true));
  REQUIRE(receiver.wait_accepted(1, 30s));
  CHECK(receiver.accepted().begin()->second.at("member_id") == "d1");
  CHECK(receiver.counts().duplicates == 0);
}

TEST_CASE("the file sink appends fsync'd NDJSON lines", "[e2e][reminders]") {
  Env env({{"kind", "file"}, {"path", "reminders.ndjson"}});
  ServerProcess server(env.options());
  Client c{server.port(), env.admin_key};
  c.member("d1");
  c.buy("d1", "o1", 20000, 90 * day);
  c.member("s1");
  c.buy("s1", "o2", 1000, 20 * day);
  auto run = c.ok("POST", "/v1/admin/reminders/run");
  REQUIRE(run.at("planned") == 2);
  const auto path = env.dir / "reminders.ndjson";
  std::vector<json> lines;
  for (int i = 0; i < 100 && lines.size() < 2; ++i) {
    std::this_thread::sleep_for(100ms);
    lines.clear();
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  }
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].at("member_id") == "d1");
  CHECK(lines[0].at("rule_id") == "winback");
  CHECK(lines[1].at("member_id") == "s1");
  CHECK(c.ok("POST", "/v1/admin/reminders/run").at("planned") == 0);
}

namespace {

// Runs encore-admin with `args`; returns (exit code, stdout).
std::pair<int, std::string> admin(const std::string& args) {
  std::string out;
  FILE* pipe = ::popen((std::string(ENCORE_ADMIN_BIN) + " " + args + " 2>/dev/null").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace

TEST_CASE("encore-admin reminders plan --dry-run then send then report reminders",
          "[e2e][reminders]") {
  Env env({{"kind", "file"}, {"path", "reminders.ndjson"}});
  ServerProcess server(env.options());
  Client c{server.port(), env.admin_key};
  c.member("d1");
  c.buy("d1", "o1", 20000, 90 * day);
  c.member("s1");
  c.buy("s1", "o2", 1000, 20 * day);
  const std::string offline = "--db " + env.db + " --program " + env.program;

  auto [plan_code, plan_out] = admin("reminders plan --dry-run --json " + offline);
  REQUIRE(plan_code == 0);
  auto plan = json::parse(plan_out);
  CHECK(plan.at("count") == 2);
  auto [table_code, table_out] = admin("reminders plan --dry-run " + offline);
  CHECK(table_code == 0);
  CHECK(table_out.find("winback") != std::string::npos);
  CHECK(table_out.find("2 reminder(s) would go out") != std::string::npos);
  CHECK(admin("reminders plan " + offline).first == 2);  // --dry-run is required

  const std::string online = "--server https://127.0.0.1:" + std::to_string(server.port()) +
                             " --ca-cert " + api::dev_certificate_paths(env.db).cert_path +
                             " reminders send --api-key " + env.admin_key + " --json";
  auto [send_code, send_out] = admin(online);
  REQUIRE(send_code == 0);
  CHECK(json::parse(send_out).at("planned") == 2);
  auto [again_code, again_out] = admin(online);
  REQUIRE(again_code == 0);
  CHECK(json::parse(again_out).at("planned") == 0);

  for (int i = 0; i < 100; ++i) {
    auto rows = c.ok("GET", "/v1/reports/reminders").at("rules");
    int delivered = 0;
    for (const auto& r : rows) delivered += r.at("delivered").get<int>();
    if (delivered == 2) break;
    std::this_thread::sleep_for(100ms);
  }
  auto [report_code, report_out] = admin("report reminders --json " + offline);
  REQUIRE(report_code == 0);
  auto report = json::parse(report_out);
  CHECK(report == c.ok("GET", "/v1/reports/reminders"));
  auto [human_code, human_out] = admin("report reminders " + offline);
  CHECK(human_code == 0);
  CHECK(human_out.find("CONVERTED") != std::string::npos);
  // SPEC 8: any report can also be written as an HTML page with charts.
  const std::string page_path = env.db + ".reminders.html";
  CHECK(admin("report reminders --html " + page_path + " " + offline).first == 0);
  std::ifstream page_file(page_path);
  const std::string page((std::istreambuf_iterator<char>(page_file)),
                         std::istreambuf_iterator<char>());
  CHECK(page.find("<svg") != std::string::npos);
  CHECK(page.find("winback") != std::string::npos);
}

TEST_CASE("SIGTERM during an on-demand run: it stops at a chunk, answers 503, and completes later",
          "[e2e][reminders]") {
  Env env({{"kind", "file"}, {"path", "reminders.ndjson"}});
  // Members who bought 90 days ago: one dormant reminder each. Seeded in one transaction.
  constexpr int members = 3000;
  {
    SystemClock clock;
    auto program = Program::load(env.program);
    REQUIRE(program);
    auto ledger = Ledger::open(env.db, std::move(program).value(), clock);
    const auto bought_at = clock.now() - 90 * day;
    ledger->write_batch([&](Writer& w) {
      for (int i = 0; i < members; ++i) {
        const std::string id = "m" + std::to_string(i);
        REQUIRE(w.enrol(EnrolRequest{id, std::nullopt, std::nullopt, std::nullopt, true},
                        Actor{"seed"}));
        PurchaseRequest buy{id, "o" + std::to_string(i), 20000, "EUR"};
        buy.occurred_at = bought_at;
        REQUIRE(w.purchase(buy, Actor{"seed"}));
      }
    });
  }
  auto options = env.options();
  // One reminder per transaction: the run takes seconds, longer than the 1 s drain grace, so a
  // run that did not stop at the signal would be cut off with the connection.
  options.env.emplace_back("ENCORE_REMINDER_CHUNK_ROWS", "1");
  options.env.emplace_back("ENCORE_SHUTDOWN_GRACE_SECONDS", "1");
  {
    ServerProcess server(options);
    Client c{server.port(), env.admin_key};
    HttpResponse run;
    std::string run_error;  // a connection cut before the answer (the run was not stopped)
    std::thread runner([&] {
      try {
        run = c.call("POST", "/v1/admin/reminders/run");
      } catch (const std::exception& e) {
        run_error = e.what();
      }
    });
    // Signal once the run has committed its first chunks (reads never wait for the writer).
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while (c.outbox().empty() && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(20ms);
    }
    const int exit_code = server.terminate();
    runner.join();
    CHECK(exit_code == 0);
    REQUIRE(run_error.empty());
    INFO(run.body);
    // 200 would mean the run finished before the signal (3,000 one-row commits outlasted it).
    REQUIRE(run.status != 200);
    CHECK(run.status == 503);
    CHECK(run.header("retry-after") == "1");
    CHECK(json::parse(run.body).at("code") == "overloaded");
  }
  // The next run plans the rest, none twice.
  ServerProcess server(options);
  Client c{server.port(), env.admin_key};
  const auto outbox_before = c.outbox().size();
  CHECK(outbox_before > 0);
  CHECK(outbox_before < static_cast<std::size_t>(members));
  auto rest = c.ok("POST", "/v1/admin/reminders/run");
  CHECK(rest.at("planned").get<std::size_t>() == members - outbox_before);
  CHECK(c.outbox().size() == static_cast<std::size_t>(members));
}
