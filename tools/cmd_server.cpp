// Server-backed commands (SPEC 6, 9): members show|enrol|erase, adjust, reverse, expire run,
// tiers recompute. They change the ledger through a running encore-server so that the server
// stays the single writer: HTTPS to --server (ENCORE_SERVER) with the admin key in
// ENCORE_ADMIN_KEY. Every POST carries one random Idempotency-Key per invocation, so a retry after
// a network error never posts twice.
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "tools/commands.h"
#include "tools/https_client.h"
#include "tools/output.h"

namespace encore::admin {

namespace {

using nlohmann::json;

constexpr const char* default_server = "https://127.0.0.1:8443";
constexpr int max_retries = 3;

std::string random_idempotency_key() {
  std::random_device rd;
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "encore-admin-";
  for (int i = 0; i < 32; ++i) out += hex[rd() % 16];
  return out;
}

std::string percent_encode(const std::string& s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// One invocation's connection settings, key and idempotency key.
class Session {
 public:
  explicit Session(const Globals& g) : g_(g) {
    const char* key = std::getenv("ENCORE_ADMIN_KEY");
    if (key == nullptr || *key == '\0') {
      throw Failure(
          "ENCORE_ADMIN_KEY is not set; set it to an admin API key (printed by `encore-admin "
          "init`, or create one with `encore-admin keys create --role admin --name NAME`)");
    }
    key_ = key;
    HttpsOptions options;
    options.url = g.server.empty() ? default_server : g.server;
    options.insecure = g.insecure;
    options.ca_cert = g.ca_cert;
    try {
      client_ = std::make_unique<HttpsClient>(options);
    } catch (const HttpsError& e) {
      throw UsageError(e.what());
    }
  }

  // Sends the request (POSTs with the invocation's Idempotency-Key), retrying network errors up
  // to max_retries times with the same key. Returns the parsed 2xx body; any other status is a
  // Failure naming the server's problem (printed as JSON on stdout first with --json).
  json call(const std::string& method, const std::string& target,
            const std::optional<json>& body = std::nullopt) {
    std::vector<std::pair<std::string, std::string>> headers{{"Authorization", "Bearer " + key_}};
    if (method == "POST") headers.emplace_back("Idempotency-Key", idem_key_);
    std::string payload = body ? body->dump() : (method == "POST" ? "{}" : "");
    HttpsResponse res;
    for (int attempt = 0;; ++attempt) {
      try {
        res = client_->request(method, target, headers, payload);
        // The first attempt may still be running on the server after a dropped connection.
        if (res.status == 409 && res.body.find("request_in_progress") != std::string::npos &&
            attempt < max_retries) {
          std::this_thread::sleep_for(std::chrono::milliseconds(250 << attempt));
          continue;
        }
        break;
      } catch (const HttpsError& e) {
        if (!e.retryable || attempt >= max_retries) throw Failure(e.what());
        std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
      }
    }
    json doc = json::parse(res.body, nullptr, false);
    if (res.status >= 200 && res.status < 300) {
      if (doc.is_discarded()) {
        throw Failure("the server at " + client_->origin() + " answered " +
                      std::to_string(res.status) + " with a body that is not JSON");
      }
      return doc;
    }
    if (g_.json && !doc.is_discarded()) print_json(doc);
    if (res.status == 401) {
      throw Failure(
          "the server refused ENCORE_ADMIN_KEY (401 unauthorized): the key is unknown "
          "or revoked; set ENCORE_ADMIN_KEY to a valid admin key");
    }
    if (res.status == 403) {
      throw Failure(
          "ENCORE_ADMIN_KEY is not an admin key (403 forbidden); use a key with role "
          "admin (`encore-admin keys create --role admin --name NAME`)");
    }
    std::string what = "the server refused the request (" + std::to_string(res.status);
    if (doc.is_object()) {
      if (doc.contains("code") && doc["code"].is_string())
        what += " " + doc["code"].get<std::string>();
      what += ")";
      if (doc.contains("detail") && doc["detail"].is_string())
        what += ": " + doc["detail"].get<std::string>();
      else if (doc.contains("title") && doc["title"].is_string())
        what += ": " + doc["title"].get<std::string>();
      if (doc.contains("field") && doc["field"].is_string() &&
          !doc["field"].get<std::string>().empty())
        what += " (field " + doc["field"].get<std::string>() + ")";
    } else {
      what += ")";
    }
    throw Failure(what);
  }

 private:
  const Globals& g_;
  std::string key_;
  std::string idem_key_ = random_idempotency_key();
  std::unique_ptr<HttpsClient> client_;
};

std::string text(const json& v) {
  if (v.is_null()) return "-";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

void require_reason(const std::string& reason, const char* command) {
  if (reason.find_first_not_of(" \t") == std::string::npos) {
    throw UsageError(std::string("--reason TEXT is required for ") + command +
                     ": every correction records why it was made; nothing was sent");
  }
}

std::int64_t parse_points(const std::string& s) {
  std::string_view v = s;
  if (!v.empty() && v.front() == '+') v.remove_prefix(1);
  std::int64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || end != v.data() + v.size() || v.empty()) {
    throw UsageError("POINTS must be a signed integer (e.g. 100 or -50), not '" + s + "'");
  }
  if (out == 0) throw UsageError("POINTS must not be 0");
  return out;
}

// YYYY-MM-DD means the end of that day in UTC; an RFC 3339 time is passed on as given.
std::string parse_as_of(const std::string& s) {
  static const std::regex date(R"(\d{4}-\d{2}-\d{2})");
  static const std::regex rfc3339(
      R"(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2}))");
  if (std::regex_match(s, date)) return s + "T23:59:59Z";
  if (std::regex_match(s, rfc3339)) return s;
  throw UsageError("--as-of must be a date YYYY-MM-DD or an RFC 3339 time, not '" + s + "'");
}

void print_member(const json& m, const json* balance) {
  std::vector<std::vector<std::string>> rows{
      {"member_id", text(m.value("member_id", json()))},
      {"email", text(m.value("email", json()))},
      {"phone", text(m.value("phone", json()))},
      {"locale", text(m.value("locale", json()))},
      {"marketing_opt_in", text(m.value("marketing_opt_in", json()))},
      {"enrolled_at", text(m.value("enrolled_at", json()))},
      {"tier", text(m.value("tier", json()))},
  };
  if (balance != nullptr) {
    for (const char* k : {"balance", "available", "pending", "held", "debt", "qualifying_points"})
      rows.push_back({k, text(balance->value(k, json()))});
    if (balance->contains("expiring")) {
      std::string exp;
      for (const auto& x : (*balance)["expiring"]) {
        exp += (exp.empty() ? "" : ", ") + text(x.value("points", json())) + " on " +
               text(x.value("date", json()));
      }
      rows.push_back({"expiring", exp.empty() ? "-" : exp});
    }
  } else {
    rows.push_back({"balance", text(m.value("balance", json()))});
  }
  print_table({"FIELD", "VALUE"}, rows);
}

void print_posting(const json& r) {
  for (const auto& e : r.value("entries", json::array())) {
    std::cout << "Posted entry " << text(e.value("id", json())) << ": "
              << text(e.value("kind", json())) << " " << text(e.value("points", json()))
              << " points";
    if (e.contains("reason")) std::cout << " (" << text(e["reason"]) << ")";
    std::cout << '\n';
  }
  if (r.contains("balance")) {
    std::cout << "Balance " << text(r["balance"].value("balance", json())) << ", available "
              << text(r["balance"].value("available", json())) << ".\n";
  }
}

int members_show(const Globals& g, const std::string& id) {
  Session s(g);
  auto member = s.call("GET", "/v1/members/" + percent_encode(id));
  auto balance = s.call("GET", "/v1/members/" + percent_encode(id) + "/balance");
  if (g.json) {
    print_json({{"member", member}, {"balance", balance}});
  } else {
    print_member(member, &balance);
  }
  return exit_ok;
}

struct EnrolArgs {
  std::string id;
  std::optional<std::string> email, phone, locale;
  bool opt_in = false;
};

int members_enrol(const Globals& g, const EnrolArgs& a) {
  Session s(g);
  json body = {{"member_id", a.id}, {"marketing_opt_in", a.opt_in}};
  if (a.email) body["email"] = *a.email;
  if (a.phone) body["phone"] = *a.phone;
  if (a.locale) body["locale"] = *a.locale;
  auto member = s.call("POST", "/v1/members", body);
  if (g.json) {
    print_json(member);
  } else {
    std::cout << "Enrolled member " << text(member.value("member_id", json())) << ".\n";
    print_member(member, nullptr);
  }
  return exit_ok;
}

int members_erase(const Globals& g, const std::string& id, const std::string& reason) {
  require_reason(reason, "members erase");
  Session s(g);
  auto member =
      s.call("POST", "/v1/members/" + percent_encode(id) + "/erase", json{{"reason", reason}});
  if (g.json) {
    print_json(member);
  } else {
    std::cout << "Erased the personal data of member " << id << " (reason: " << reason
              << "); the balance of " << text(member.value("balance", json()))
              << " points stays.\n";
  }
  return exit_ok;
}

int adjust(const Globals& g, const std::string& id, const std::string& points_text,
           const std::string& reason) {
  auto points = parse_points(points_text);
  require_reason(reason, "adjust");
  Session s(g);
  auto r = s.call("POST", "/v1/adjustments",
                  json{{"member_id", id}, {"points", points}, {"reason", reason}});
  if (g.json) {
    print_json(r);
  } else {
    print_posting(r);
  }
  return exit_ok;
}

int reverse(const Globals& g, const std::string& entry_id, const std::string& reason) {
  auto digits = entry_id.find_first_not_of("0123456789");
  if (entry_id.empty() || digits != std::string::npos) {
    throw UsageError("ENTRY_ID must be an entry id (a positive integer), not '" + entry_id + "'");
  }
  require_reason(reason, "reverse");
  Session s(g);
  auto r = s.call("POST", "/v1/entries/" + entry_id + "/reversal", json{{"reason", reason}});
  if (g.json) {
    print_json(r);
  } else {
    print_posting(r);
  }
  return exit_ok;
}

int expire_run(const Globals& g, const std::optional<std::string>& as_of, bool dry_run) {
  json body = {{"dry_run", dry_run}};
  if (as_of) body["as_of"] = parse_as_of(*as_of);
  Session s(g);
  auto r = s.call("POST", "/v1/admin/expiry-runs", body);
  if (g.json) {
    print_json(r);
  } else {
    std::cout << (dry_run ? "Dry run: would expire " : "Expired ")
              << text(r.value("points", json())) << " points in "
              << text(r.value("entries", json())) << " entries for "
              << text(r.value("members", json())) << " members.\n";
  }
  return exit_ok;
}

int tiers_recompute(const Globals& g) {
  Session s(g);
  auto r = s.call("POST", "/v1/admin/tiers/recompute");
  if (g.json) {
    print_json(r);
  } else {
    std::cout << "Recomputed tiers: " << text(r.value("changed", json()))
              << " members changed tier.\n";
  }
  return exit_ok;
}

constexpr const char* server_note =
    "\n\nThrough the server: --server URL (env ENCORE_SERVER, default https://127.0.0.1:8443), "
    "admin key in ENCORE_ADMIN_KEY, --ca-cert PEM or --insecure for a self-signed certificate.";

}  // namespace

void add_server_commands(CLI::App& app, const Globals& g, Action& action) {
  auto footer = [](std::initializer_list<const char*> lines) {
    return examples(lines) + server_note;
  };

  // members show | enrol | erase
  auto* members =
      app.add_subcommand("members", "Show, enrol or erase a member (through the server)");
  members->require_subcommand(1);
  members->footer(footer({"encore-admin members show card:6001 --insecure"}));

  auto id = std::make_shared<std::string>();
  auto* show = members->add_subcommand("show", "Show a member's profile and balance");
  show->add_option("MEMBER_ID", *id, "Member id")->required();
  show->footer(
      footer({"encore-admin --server https://127.0.0.1:8443 --ca-cert encore.db.dev-cert.pem "
              "members show card:6001",
              "encore-admin members show card:6001 --json"}));
  show->callback([&g, &action, id] { action = [&g, id] { return members_show(g, *id); }; });

  auto enrol_args = std::make_shared<EnrolArgs>();
  auto* enrol = members->add_subcommand("enrol", "Enrol a new member");
  enrol->add_option("MEMBER_ID", enrol_args->id, "Member id")->required();
  enrol->add_option("--email", enrol_args->email, "E-mail address");
  enrol->add_option("--phone", enrol_args->phone, "Phone number (E.164)");
  enrol->add_option("--locale", enrol_args->locale, "Locale (e.g. en, zh-CN)");
  enrol->add_flag("--opt-in", enrol_args->opt_in, "The member opted in to marketing");
  enrol->footer(footer({"encore-admin members enrol card:6001 --email ana@example.com --opt-in"}));
  enrol->callback([&g, &action, enrol_args] {
    action = [&g, enrol_args] { return members_enrol(g, *enrol_args); };
  });

  auto erase_id = std::make_shared<std::string>();
  auto erase_reason = std::make_shared<std::string>();
  auto* erase = members->add_subcommand(
      "erase", "Remove a member's personal data; the ledger amounts stay (--reason required)");
  erase->add_option("MEMBER_ID", *erase_id, "Member id")->required();
  erase->add_option("--reason", *erase_reason, "Why (required)");
  erase->footer(
      footer({"encore-admin members erase card:6001 --reason \"GDPR request 2026-118\""}));
  erase->callback([&g, &action, erase_id, erase_reason] {
    action = [&g, erase_id, erase_reason] { return members_erase(g, *erase_id, *erase_reason); };
  });

  // adjust MEMBER_ID POINTS --reason TEXT
  auto adj_id = std::make_shared<std::string>();
  auto adj_points = std::make_shared<std::string>();
  auto adj_reason = std::make_shared<std::string>();
  auto* adj =
      app.add_subcommand("adjust", "Credit or debit points with a reason (through the server)");
  adj->add_option("MEMBER_ID", *adj_id, "Member id")->required();
  // A string, so that "-50" is taken as the value (CLI11 treats "-<digit>..." as positional when
  // no such short option exists) and checked by parse_points.
  adj->add_option("POINTS", *adj_points, "Signed points: 100 credits, -50 debits")->required();
  adj->add_option("--reason", *adj_reason, "Why (required)");
  adj->footer(footer({"encore-admin adjust card:6001 250 --reason \"goodwill: late delivery\"",
                      "encore-admin adjust card:6001 -50 --reason \"duplicate earn\""}));
  adj->callback([&g, &action, adj_id, adj_points, adj_reason] {
    action = [&g, adj_id, adj_points, adj_reason] {
      return adjust(g, *adj_id, *adj_points, *adj_reason);
    };
  });

  // reverse ENTRY_ID --reason TEXT
  auto rev_id = std::make_shared<std::string>();
  auto rev_reason = std::make_shared<std::string>();
  auto* rev = app.add_subcommand("reverse", "Reverse one entry with a reason (through the server)");
  rev->add_option("ENTRY_ID", *rev_id, "Entry id")->required();
  rev->add_option("--reason", *rev_reason, "Why (required)");
  rev->footer(footer({"encore-admin reverse 1041 --reason \"purchase posted to the wrong card\""}));
  rev->callback([&g, &action, rev_id, rev_reason] {
    action = [&g, rev_id, rev_reason] { return reverse(g, *rev_id, *rev_reason); };
  });

  // expire run [--as-of DATE] [--dry-run]
  auto* expire = app.add_subcommand("expire", "Expire points (through the server)");
  expire->require_subcommand(1);
  expire->footer(footer({"encore-admin expire run --dry-run"}));
  auto as_of = std::make_shared<std::optional<std::string>>();
  auto dry = std::make_shared<bool>(false);
  auto* run = expire->add_subcommand(
      "run", "Post expiry entries for lots expired by --as-of (default now)");
  run->add_option("--as-of", *as_of, "YYYY-MM-DD (end of that day, UTC) or an RFC 3339 time")
      ->type_name("DATE");
  run->add_flag("--dry-run", *dry, "Report what would expire; change nothing");
  run->footer(footer(
      {"encore-admin expire run --dry-run --json", "encore-admin expire run --as-of 2026-12-31"}));
  run->callback([&g, &action, as_of, dry] {
    action = [&g, as_of, dry] { return expire_run(g, *as_of, *dry); };
  });

  // tiers recompute
  auto* tiers = app.add_subcommand("tiers", "Tier maintenance (through the server)");
  tiers->require_subcommand(1);
  tiers->footer(footer({"encore-admin tiers recompute"}));
  auto* recompute = tiers->add_subcommand("recompute", "Re-evaluate every member's tier now");
  recompute->footer(footer({"encore-admin tiers recompute --json"}));
  recompute->callback([&g, &action] { action = [&g] { return tiers_recompute(g); }; });
}

}  // namespace encore::admin
