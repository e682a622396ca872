// `reminders plan --dry-run`, `reminders send` and `report reminders` (SPEC 7, docs/reminders.md).
//
// plan --dry-run and report reminders read the database file offline (read-only, so safe while a
// server runs) with the program given by --program / ENCORE_PROGRAM. `send` plans and dispatches
// through the running server (--server, --api-key / ENCORE_API_KEY), which stays the single
// writer and owns the sink.
#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <iostream>

#include "ledger/program.h"
#include "ledger/reminders.h"
#include "ledger/time_zone.h"
#include "tools/commands.h"
#include "tools/db_access.h"
#include "tools/output.h"
#include "tools/report_html.h"

namespace encore::admin {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;

struct ReminderOptions {
  std::string program;
  std::string html;  // report reminders --html FILE
  bool dry_run = false;
  std::string api_key;
};

Program load_program(const std::string& path) {
  Program program = load_program_file(path);
  if (!program.reminders) throw Failure("the program " + path + " has no `reminders` block");
  return program;
}

int plan(const Globals& g, const ReminderOptions& o) {
  if (!o.dry_run) {
    throw UsageError("plan only lists (--dry-run); use `reminders send` to plan and send");
  }
  const Program program = load_program(o.program);
  auto store = open_current(g.db, OpenMode::read_only);
  const TimePoint now = SystemClock().now();
  store->begin_read();
  auto rows = plan_reminders(*store, program, now);
  store->end_read();
  if (g.json) {
    auto list = nlohmann::json::array();
    for (const auto& r : rows) list.push_back(reminder_json(r));
    print_json({{"dry_run", true},
                {"as_of", format_rfc3339(now)},
                {"count", rows.size()},
                {"reminders", list}});
    return exit_ok;
  }
  std::vector<std::vector<std::string>> table;
  for (const auto& r : rows) {
    table.push_back({r.member_id, r.rule_id, std::string(reminder_kind_name(r.kind)), r.locale,
                     std::to_string(r.points), std::to_string(r.expiring_points),
                     r.expires_on.value_or("-"), r.message});
  }
  print_table({"MEMBER", "RULE", "KIND", "LOCALE", "POINTS", "EXPIRING", "EXPIRES_ON", "MESSAGE"},
              table);
  std::cout << rows.size() << " reminder(s) would go out (dry run, nothing written)\n";
  return exit_ok;
}

int report(const Globals& g, const ReminderOptions& o) {
  const Program program = load_program(o.program);
  auto store = open_current(g.db, OpenMode::read_only);
  store->begin_read();
  auto rows = reminder_report(*store, program);
  store->end_read();
  HtmlTable table{
      "Per rule",
      {"RULE", "KIND", "PLANNED", "DELIVERED", "FAILED", "CONVERTED", "RATE", "REDEEMED_AFTER"},
      {}};
  HtmlChart chart{"Conversion rate per rule", "%", {}, 100};
  for (const auto& r : rows) {
    const auto& f = r.figures;
    char rate[32];
    std::snprintf(rate, sizeof rate, "%lld.%02lld%%",
                  static_cast<long long>(r.conversion_rate_bp / 100),
                  static_cast<long long>(r.conversion_rate_bp % 100));
    table.rows.push_back({f.rule_id, r.kind, std::to_string(f.planned), std::to_string(f.delivered),
                          std::to_string(f.failed), std::to_string(f.converted), rate,
                          std::to_string(f.points_redeemed_after)});
    chart.bars.push_back({f.rule_id, r.conversion_rate_bp});
  }
  if (!o.html.empty()) {
    write_html(o.html, HtmlPage{"Reminder conversion",
                                "a reminder converts when the member purchases or redeems within " +
                                    std::to_string(program.reminders->attribution_days) +
                                    " days of its delivery",
                                {table},
                                {chart}});
  }
  if (g.json) {
    auto body = reminder_report_json(rows);
    body["attribution_days"] = program.reminders->attribution_days;
    print_json(body);
    return exit_ok;
  }
  print_table(table.headers, table.rows);
  return exit_ok;
}

// One HTTPS POST to the server; returns (status, body).
std::pair<unsigned, std::string> post(const Globals& g, const std::string& key,
                                      const std::string& target) {
  std::string rest = g.server;
  if (rest.starts_with("https://")) rest = rest.substr(8);
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  const auto colon = rest.rfind(':');
  const std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
  const std::string port = colon == std::string::npos ? "443" : rest.substr(colon + 1);
  net::io_context ioc;
  ssl::context tls(ssl::context::tls_client);
  if (g.insecure) {
    tls.set_verify_mode(ssl::verify_none);
  } else {
    tls.set_verify_mode(ssl::verify_peer);
    if (!g.ca_cert.empty()) {
      tls.load_verify_file(g.ca_cert);
    } else {
      tls.set_default_verify_paths();
    }
  }
  beast::ssl_stream<beast::tcp_stream> stream(ioc, tls);
  if (!g.insecure) stream.set_verify_callback(ssl::host_name_verification(host));
  SSL_set_tlsext_host_name(stream.native_handle(), host.c_str());
  net::ip::tcp::resolver resolver(ioc);
  beast::get_lowest_layer(stream).connect(resolver.resolve(host, port));
  stream.handshake(ssl::stream_base::client);
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, host);
  req.set(http::field::authorization, "Bearer " + key);
  req.set(http::field::content_type, "application/json");
  req.body() = "{}";
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  beast::error_code ec;
  stream.shutdown(ec);
  return {res.result_int(), res.body()};
}

int send(const Globals& g, const ReminderOptions& o) {
  if (g.server.empty()) throw UsageError("send goes through the server: give --server URL");
  if (o.api_key.empty()) throw UsageError("give an admin key with --api-key or ENCORE_API_KEY");
  std::pair<unsigned, std::string> res;
  try {
    res = post(g, o.api_key, "/v1/admin/reminders/run");
  } catch (const std::exception& e) {
    throw Failure("cannot reach " + g.server + ": " + e.what());
  }
  auto body = nlohmann::json::parse(res.second, nullptr, false);
  if (res.first / 100 != 2) {
    std::string detail = body.is_object() && body.contains("detail") ? body["detail"].dump() : "";
    throw Failure("the server answered " + std::to_string(res.first) + " " + detail);
  }
  if (g.json) {
    print_json(body);
  } else {
    std::cout << body.value("planned", 0) << " reminder(s) planned; the server delivers them now\n";
  }
  return exit_ok;
}

}  // namespace

void add_reminders_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto options = std::make_shared<ReminderOptions>();
  auto* group = app.add_subcommand("reminders", "Reminders to use points (SPEC 7)");
  group->require_subcommand(1);

  auto* plan_cmd = group->add_subcommand(
      "plan", "List the reminders that would go out now (offline, read-only)");
  plan_cmd->add_flag("--dry-run", options->dry_run, "Only list; nothing is written (required)");
  plan_cmd->add_option("--program", options->program, "Program file")
      ->envname("ENCORE_PROGRAM")
      ->type_name("PATH");
  plan_cmd->footer(
      examples({"encore-admin --db encore.db reminders plan --dry-run "
                "--program program.json --json"}));
  plan_cmd->callback([&globals, &action, options] {
    action = [&globals, options] { return plan(globals, *options); };
  });

  auto* send_cmd =
      group->add_subcommand("send", "Plan now and deliver, through the running server");
  send_cmd->add_option("--api-key", options->api_key, "Admin API key")
      ->envname("ENCORE_API_KEY")
      ->type_name("KEY");
  send_cmd->footer(
      examples({"ENCORE_API_KEY=... encore-admin --server https://127.0.0.1:8443 "
                "--ca-cert ca.pem reminders send"}));
  send_cmd->callback([&globals, &action, options] {
    action = [&globals, options] { return send(globals, *options); };
  });

  auto* report_cmd = report_group(app)->add_subcommand(
      "reminders", "Per rule: planned, delivered, failed, converted, conversion rate");
  report_cmd->add_option("--program", options->program, "Program file")
      ->envname("ENCORE_PROGRAM")
      ->type_name("PATH");
  report_cmd->add_option("--html", options->html, "Also write the report as an HTML page")
      ->type_name("FILE");
  report_cmd->callback([&globals, &action, options] {
    action = [&globals, options] { return report(globals, *options); };
  });
}

}  // namespace encore::admin
