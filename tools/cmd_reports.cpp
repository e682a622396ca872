// `report liability|repeat-purchase|rfm` (SPEC 8, docs/reports.md). Like `report reminders`,
// they read the database file offline (read-only: safe beside a running server) in one snapshot,
// with the program given by --program / ENCORE_PROGRAM (time zone, expiry, point value).
// `--html FILE` also writes the report as a page with charts.
#include <iostream>

#include "ledger/program.h"
#include "ledger/reports.h"
#include "ledger/time_zone.h"
#include "tools/commands.h"
#include "tools/db_access.h"
#include "tools/output.h"
#include "tools/report_html.h"

namespace encore::admin {

namespace {

using nlohmann::json;

struct ReportOptions {
  std::string program;
  int months = default_report_months;
  std::string html;
};

// One read snapshot for the whole report, ended however the report ends.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Store& store) : store_(store) { store_.begin_read(); }
  ~ReadSnapshot() { store_.end_read(); }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;

 private:
  Store& store_;
};

// "12.34%" from basis points; "-" when absent.
std::string percent(const json& bp) {
  if (bp.is_null()) return "-";
  const auto v = bp.get<std::int64_t>();
  char text[32];
  std::snprintf(text, sizeof text, "%lld.%02lld%%", static_cast<long long>(v / 100),
                static_cast<long long>(v % 100));
  return text;
}

std::string text_of(const json& v) {
  if (v.is_null()) return "-";
  return v.is_string() ? v.get<std::string>() : v.dump();
}

std::int64_t int_of(const json& v) {
  return v.is_number_integer() ? v.get<std::int64_t>() : 0;
}

// Computes a report's JSON from one read snapshot of the database file.
json read_report(const Globals& g, const std::function<json(Store&)>& compute) {
  auto store = open_current(g.db, OpenMode::read_only);
  ReadSnapshot snapshot(*store);
  return compute(*store);
}

// --html FILE, then --json or the page's subtitle and tables on stdout.
int emit(const Globals& g, const ReportOptions& o, const json& body, const HtmlPage& page) {
  if (!o.html.empty()) write_html(o.html, page);
  if (g.json) {
    print_json(body);
    return exit_ok;
  }
  std::cout << page.subtitle << '\n';
  for (const auto& table : page.tables) {
    std::cout << '\n';
    print_table(table.headers, table.rows);
  }
  return exit_ok;
}

int liability(const Globals& g, const ReportOptions& o) {
  const Program program = load_program_file(o.program);
  const json body = read_report(g, [&](Store& store) {
    return liability_report_json(liability_report(store, program, SystemClock().now(), o.months),
                                 program);
  });
  HtmlTable figures{"Outstanding points", {"FIGURE", "POINTS", "VALUE_MINOR"}, {}};
  for (const char* name : {"outstanding", "available", "pending", "held", "debt", "balance"}) {
    figures.rows.push_back(
        {name, text_of(body[name]["points"]), text_of(body[name]["value_minor"])});
  }
  HtmlTable months{"Expiring points by month", {"MONTH", "POINTS", "VALUE_MINOR"}, {}};
  HtmlChart chart{"Points expiring per month", "points", {}};
  for (const auto& m : body["expiring"]) {
    months.rows.push_back(
        {m["month"].get<std::string>(), text_of(m["points"]), text_of(m["value_minor"])});
    chart.bars.push_back({m["month"].get<std::string>(), int_of(m["points"])});
  }
  months.rows.push_back({"later", text_of(body["expiring_later"]["points"]),
                         text_of(body["expiring_later"]["value_minor"])});
  months.rows.push_back({"no expiry", text_of(body["no_expiry"]["points"]),
                         text_of(body["no_expiry"]["value_minor"])});
  const auto& h = body["history"];
  const std::string breakage = "breakage " + percent(h["breakage_bp"]) + ": " +
                               text_of(h["expired_points"]) + " points expired of " +
                               text_of(h["earned_points"]) + " earned, " +
                               text_of(h["reversed_points"]) + " reversed";
  const std::string subtitle =
      "as of " + body["as_of"].get<std::string>() + " (" + program.timezone + "), " +
      text_of(body["members"]) + " members, " + program.currency + " at " +
      std::to_string(program.point_value_minor) + " minor unit(s) per point; " + breakage;
  return emit(g, o, body, HtmlPage{"Points liability", subtitle, {figures, months}, {chart}});
}

int repeat_purchase(const Globals& g, const ReportOptions& o) {
  const Program program = load_program_file(o.program);
  const json body = read_report(g, [&](Store& store) {
    return repeat_purchase_report_json(repeat_purchase_report(store, program, SystemClock().now()),
                                       program);
  });
  HtmlTable table{
      "By cohort of first purchase", {"COHORT", "PURCHASERS", "REPEAT", "RATE", "MEDIAN_DAYS"}, {}};
  HtmlChart chart{"Second-purchase rate by cohort", "%", {}, 100};
  for (const auto& c : body["cohorts"]) {
    table.rows.push_back({c["cohort"].get<std::string>(), text_of(c["purchasers"]),
                          text_of(c["repeat_purchasers"]), percent(c["second_purchase_rate_bp"]),
                          text_of(c["median_days_to_second"])});
    chart.bars.push_back({c["cohort"].get<std::string>(), int_of(c["second_purchase_rate_bp"])});
  }
  table.rows.push_back({"all", text_of(body["purchasers"]), text_of(body["repeat_purchasers"]),
                        percent(body["second_purchase_rate_bp"]),
                        text_of(body["median_days_to_second"])});
  const std::string subtitle =
      "as of " + body["as_of"].get<std::string>() + " (" + program.timezone +
      "): second-purchase rate " + percent(body["second_purchase_rate_bp"]) + ", median " +
      text_of(body["median_days_to_second"]) + " days from first to second purchase";
  return emit(g, o, body, HtmlPage{"Repeat purchase", subtitle, {table}, {chart}});
}

int rfm(const Globals& g, const ReportOptions& o) {
  const Program program = load_program_file(o.program);
  const json body = read_report(g, [&](Store& store) {
    return rfm_report_json(rfm_report(store, SystemClock().now()), program);
  });
  HtmlTable table{"Segments", {"SEGMENT", "MEMBERS", "SHARE", "PURCHASES", "MONETARY_MINOR"}, {}};
  HtmlChart chart{"Members per segment", "members", {}};
  for (const auto& s : body["segments"]) {
    table.rows.push_back({s["segment"].get<std::string>(), text_of(s["members"]),
                          percent(s["share_bp"]), text_of(s["purchases"]),
                          text_of(s["monetary_minor"])});
    chart.bars.push_back({s["segment"].get<std::string>(), int_of(s["members"])});
  }
  const std::string subtitle = "as of " + body["as_of"].get<std::string>() + ": " +
                               text_of(body["purchasers"]) + " purchasers in segments, " +
                               text_of(body["no_purchase_members"]) + " members without a purchase";
  return emit(g, o, body, HtmlPage{"RFM segments", subtitle, {table}, {chart}});
}

}  // namespace

Program load_program_file(const std::string& path) {
  if (path.empty()) throw UsageError("give the program file with --program or ENCORE_PROGRAM");
  auto program = Program::load(path);
  if (!program) {
    throw Failure("invalid program " + path + ": " + program.error().field + ": " +
                  program.error().detail);
  }
  return std::move(program).value();
}

CLI::App* report_group(CLI::App& app) {
  // Registered by whichever command group comes first (reminders adds `report reminders`).
  for (auto* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == "report") return sub;
  }
  auto* group = app.add_subcommand("report", "Reports (SPEC 8)");
  group->require_subcommand(1);
  return group;
}

void add_report_commands(CLI::App& app, const Globals& globals, Action& action) {
  auto* group = report_group(app);
  auto options = std::make_shared<ReportOptions>();
  const auto add = [&](const char* name, const char* what,
                       int (*run)(const Globals&, const ReportOptions&)) {
    auto* cmd = group->add_subcommand(name, what);
    cmd->add_option("--program", options->program, "Program file")
        ->envname("ENCORE_PROGRAM")
        ->type_name("PATH");
    cmd->add_option("--html", options->html, "Also write the report as an HTML page with charts")
        ->type_name("FILE");
    cmd->callback([&globals, &action, options, run] {
      action = [&globals, options, run] { return run(globals, *options); };
    });
    return cmd;
  };
  auto* liability_cmd =
      add("liability",
          "Outstanding points (available, pending, held, debt), expiry per month ahead, breakage",
          liability);
  liability_cmd->add_option("--months", options->months, "Months of expiry to list (1-120)")
      ->check(CLI::Range(1, max_report_months))
      ->type_name("N");
  liability_cmd->footer(
      examples({"encore-admin --db encore.db report liability --program "
                "program.json --months 6 --html liability.html"}));
  add("repeat-purchase",
      "Second-purchase rate and median days to it, by monthly cohort of first purchase",
      repeat_purchase);
  add("rfm", "Purchasers in recency/frequency/monetary segments, with counts", rfm);
}

}  // namespace encore::admin
