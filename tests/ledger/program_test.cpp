#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>

#include <unistd.h>

#include "ledger/json_reader.h"
#include "ledger/program.h"

using namespace encore;
using nlohmann::json;

namespace {

const std::string example_path = ENCORE_SOURCE_DIR "/examples/program.json";

json example_document() {
  std::ifstream file(example_path);
  REQUIRE(file);
  return json::parse(file);
}

json minimal_document() {
  return json{{"currency", "EUR"}, {"earn", {{"points_per_unit", 1}, {"unit_minor", 100}}}};
}

Error error_of(const json& document) {
  auto program = Program::parse(document);
  REQUIRE_FALSE(program.ok());
  CHECK(program.error().code == ErrorCode::invalid_request);
  return program.error();
}

// A scratch file removed at scope exit; the name is unique per test run and per use.
struct TempFile {
  explicit TempFile(const std::string& content) {
    static int counter = 0;
    path = std::filesystem::temp_directory_path() /
           ("encore-program-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) +
            ".json");
    std::ofstream(path) << content;
  }
  ~TempFile() { std::filesystem::remove(path); }
  std::filesystem::path path;
};

struct BadCase {
  std::string what;
  std::function<void(json&)> mutate;
  std::string field;
};

}  // namespace

TEST_CASE("the example program loads with the documented values", "[program]") {
  auto loaded = Program::load(example_path);
  INFO((loaded.ok() ? "" : loaded.error().field + ": " + loaded.error().detail));
  REQUIRE(loaded.ok());
  const Program& p = *loaded;
  CHECK(p.currency == "EUR");
  CHECK(p.timezone == "Europe/Paris");
  REQUIRE(p.zone != nullptr);
  CHECK(p.zone->name() == "Europe/Paris");
  CHECK(p.earn.points_per_unit == 1);
  CHECK(p.earn.unit_minor == 100);
  REQUIRE(p.tiers.size() == 3);
  CHECK(p.tiers[1].name == "silver");
  CHECK(p.tiers[1].threshold == 1000);
  CHECK(p.tiers[2].multiplier_bp == 15000);
  CHECK(p.pending_days == 0);
  CHECK(p.expiry.policy == ExpiryPolicy::fixed_term);
  CHECK(p.expiry.days == 365);
  REQUIRE(p.promotions.size() == 2);
  const auto& bonus = std::get<NthPurchaseBonus>(p.promotions[0]);
  CHECK(bonus.id == "second-visit");
  CHECK(bonus.n == 2);
  CHECK(bonus.within_days == 30);
  CHECK(bonus.bonus_points == 200);
  const auto& campaign = std::get<MultiplierCampaign>(p.promotions[1]);
  CHECK(campaign.from == *parse_date("2027-03-20"));
  CHECK(campaign.multiplier_bp == 20000);
  REQUIRE(p.reminders);
  REQUIRE(p.reminders->rules.size() == 3);
  CHECK(p.reminders->rules[0].days_before == std::vector<int>{30, 7});
  CHECK(p.reminders->rules[1].kind == ReminderKind::dormant);
  CHECK(p.reminders->rules[1].days == 60);
  CHECK(p.reminders->rules[2].kind == ReminderKind::second_purchase);
  CHECK(p.reminders->templates.at("zh-CN").size() == 3);
  REQUIRE(std::holds_alternative<FileSink>(p.reminders->sink));
  CHECK(std::get<FileSink>(p.reminders->sink).path == "reminders.ndjson");
  CHECK(p.tier_index("gold") == 2);
  CHECK(p.tier_index("platinum") == 0);
  CHECK(p.source == example_document());
}

TEST_CASE("absent optional fields take their documented defaults", "[program]") {
  auto parsed = Program::parse(minimal_document());
  REQUIRE(parsed.ok());
  const Program& p = *parsed;
  CHECK(p.name.empty());
  CHECK(p.timezone == "UTC");
  REQUIRE(p.zone != nullptr);
  REQUIRE(p.tiers.size() == 1);
  CHECK(p.tiers[0].name == "base");
  CHECK(p.tiers[0].threshold == 0);
  CHECK(p.tiers[0].multiplier_bp == 10000);
  CHECK(p.tier_window_days == 365);
  CHECK(p.tier_hold_days == 365);
  CHECK(p.pending_days == 0);
  CHECK(p.expiry.policy == ExpiryPolicy::none);
  CHECK(p.promotions.empty());
  CHECK(p.refund_shortfall == RefundShortfall::debt);
  CHECK(p.point_value_minor == 1);
  CHECK_FALSE(p.reminders);

  SECTION("an empty reminders block gets the reminder defaults") {
    json document = minimal_document();
    document["reminders"] = json::object();
    auto with_reminders = Program::parse(document);
    REQUIRE(with_reminders.ok());
    const Reminders& r = *with_reminders->reminders;
    CHECK(r.rules.empty());
    CHECK(r.min_gap_days == 7);
    CHECK(r.max_per_30_days == 4);
    CHECK(r.attribution_days == 14);
    CHECK(r.run_at == "10:00");
    CHECK(r.default_locale == "en");
    CHECK(std::holds_alternative<std::monostate>(r.sink));
  }
  SECTION("a webhook sink gets its defaults and keeps ca_file") {
    json document = minimal_document();
    document["reminders"]["sink"] = {{"kind", "webhook"},
                                     {"url", "https://crm.example/hook"},
                                     {"secret_env", "ENCORE_WEBHOOK_SECRET"},
                                     {"ca_file", "/etc/encore/crm-ca.pem"}};
    auto with_webhook = Program::parse(document);
    REQUIRE(with_webhook.ok());
    const auto& sink = std::get<WebhookSink>(with_webhook->reminders->sink);
    CHECK(sink.max_attempts == 8);
    CHECK(sink.timeout_seconds == 10);
    CHECK(sink.ca_file == "/etc/encore/crm-ca.pem");
  }
  SECTION("a single days_before integer becomes a one-element list") {
    json document = minimal_document();
    document["reminders"]["rules"] =
        json::array({{{"id", "exp"}, {"kind", "expiring_soon"}, {"days_before", 30}}});
    auto with_rule = Program::parse(document);
    REQUIRE(with_rule.ok());
    CHECK(with_rule->reminders->rules[0].days_before == std::vector<int>{30});
    CHECK(with_rule->reminders->rules[0].min_points == 0);
  }
}

TEST_CASE("each invalid program is rejected naming the exact field path", "[program]") {
  auto bad = GENERATE(values<BadCase>({
      {"unknown top-level key", [](json& d) { d["colour"] = "blue"; }, "colour"},
      {"unknown key inside a tier", [](json& d) { d["tiers"][1]["bonus"] = 1; },
       "tiers[1].bonus"},
      {"unknown key inside a reminder rule",
       [](json& d) { d["reminders"]["rules"][2]["min_points"] = 5; },
       "reminders.rules[2].min_points"},
      {"float where an integer is expected", [](json& d) { d["earn"]["unit_minor"] = 100.0; },
       "earn.unit_minor"},
      {"string where an integer is expected",
       [](json& d) { d["tiers"][1]["multiplier_bp"] = "12500"; }, "tiers[1].multiplier_bp"},
      {"bool where an integer is expected", [](json& d) { d["pending_days"] = true; },
       "pending_days"},
      {"integer out of bounds", [](json& d) { d["earn"]["points_per_unit"] = 1'000'001; },
       "earn.points_per_unit"},
      {"missing required earn", [](json& d) { d.erase("earn"); }, "earn"},
      {"lower-case currency", [](json& d) { d["currency"] = "eur"; }, "currency"},
      {"four-letter currency", [](json& d) { d["currency"] = "EURO"; }, "currency"},
      {"missing currency", [](json& d) { d.erase("currency"); }, "currency"},
      {"unknown time zone", [](json& d) { d["timezone"] = "Europe/Atlantis"; }, "timezone"},
      {"thresholds not increasing", [](json& d) { d["tiers"][2]["threshold"] = 1000; },
       "tiers[2].threshold"},
      {"first threshold not 0", [](json& d) { d["tiers"][0]["threshold"] = 10; },
       "tiers[0].threshold"},
      {"duplicate tier name", [](json& d) { d["tiers"][2]["name"] = "base"; }, "tiers[2].name"},
      {"empty tier list", [](json& d) { d["tiers"] = json::array(); }, "tiers"},
      {"days missing for fixed_term", [](json& d) { d["expiry"].erase("days"); },
       "expiry.days"},
      {"days given with policy none", [](json& d) { d["expiry"]["policy"] = "none"; },
       "expiry.days"},
      {"unknown expiry policy", [](json& d) { d["expiry"]["policy"] = "forever"; },
       "expiry.policy"},
      {"promotion with duplicate id", [](json& d) { d["promotions"][1]["id"] = "second-visit"; },
       "promotions[1].id"},
      {"unknown promotion kind", [](json& d) { d["promotions"][0]["kind"] = "cashback"; },
       "promotions[0].kind"},
      {"nth purchase below 2", [](json& d) { d["promotions"][0]["n"] = 1; }, "promotions[0].n"},
      {"campaign ending before it starts",
       [](json& d) { d["promotions"][1]["to"] = "2027-03-19"; }, "promotions[1].to"},
      {"campaign date not a date", [](json& d) { d["promotions"][1]["from"] = "2027-02-30"; },
       "promotions[1].from"},
      {"bad refund_shortfall", [](json& d) { d["refund_shortfall"] = "forgive"; },
       "refund_shortfall"},
      {"unknown placeholder in a zh-CN template",
       [](json& d) { d["reminders"]["templates"]["zh-CN"]["expiring_soon"] = "您有{balance}积分"; },
       "reminders.templates.zh-CN.expiring_soon"},
      {"unclosed placeholder", [](json& d) { d["reminders"]["templates"]["en"]["dormant"] = "{points"; },
       "reminders.templates.en.dormant"},
      {"template for an unknown kind",
       [](json& d) { d["reminders"]["templates"]["en"]["birthday"] = "Happy birthday"; },
       "reminders.templates.en.birthday"},
      {"default locale without templates",
       [](json& d) { d["reminders"]["default_locale"] = "fr"; }, "reminders.default_locale"},
      {"run_at hour 24", [](json& d) { d["reminders"]["run_at"] = "24:00"; },
       "reminders.run_at"},
      {"run_at minute 60", [](json& d) { d["reminders"]["run_at"] = "10:60"; },
       "reminders.run_at"},
      {"run_at without leading zero", [](json& d) { d["reminders"]["run_at"] = "9:30"; },
       "reminders.run_at"},
      {"days_before of zero",
       [](json& d) { d["reminders"]["rules"][0]["days_before"] = json::array({30, 0}); },
       "reminders.rules[0].days_before[1]"},
      {"duplicate rule id", [](json& d) { d["reminders"]["rules"][1]["id"] = "exp-30"; },
       "reminders.rules[1].id"},
      {"min_gap_days above 365", [](json& d) { d["reminders"]["min_gap_days"] = 366; },
       "reminders.min_gap_days"},
      {"webhook url not https",
       [](json& d) {
         d["reminders"]["sink"] = {{"kind", "webhook"},
                                   {"url", "http://crm.example/hook"},
                                   {"secret_env", "ENCORE_WEBHOOK_SECRET"}};
       },
       "reminders.sink.url"},
      {"webhook secret_env not an env name",
       [](json& d) {
         d["reminders"]["sink"] = {
             {"kind", "webhook"}, {"url", "https://crm.example/hook"}, {"secret_env", "s3cret"}};
       },
       "reminders.sink.secret_env"},
      {"path given to a webhook sink",
       [](json& d) {
         d["reminders"]["sink"] = {{"kind", "webhook"},
                                   {"url", "https://crm.example/hook"},
                                   {"secret_env", "ENCORE_WEBHOOK_SECRET"},
                                   {"path", "x"}};
       },
       "reminders.sink.path"},
      {"empty file sink path", [](json& d) { d["reminders"]["sink"]["path"] = ""; },
       "reminders.sink.path"},
      {"document not an object", [](json& d) { d = json::array(); }, ""},
  }));
  json document = example_document();
  bad.mutate(document);
  INFO(bad.what);
  const Error error = error_of(document);
  INFO(error.detail);
  CHECK(error.field == bad.field);
  CHECK_FALSE(error.detail.empty());
}

TEST_CASE("text that is not JSON and missing files are clear errors", "[program]") {
  SECTION("invalid JSON names no field and explains the parse error") {
    auto parsed = Program::parse_text(R"({"currency": "EUR",)");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == ErrorCode::invalid_request);
    CHECK(parsed.error().field.empty());
    CHECK(parsed.error().detail.find("not valid JSON") != std::string::npos);
  }
  SECTION("a key given twice is refused, naming its path") {
    auto parsed = Program::parse_text(
        R"({"currency": "EUR", "earn": {"points_per_unit": 1, "unit_minor": 100},
            "tiers": [{"name": "base", "threshold": 0, "multiplier_bp": 10000},
                      {"name": "gold", "threshold": 10, "multiplier_bp": 1, "threshold": 20}]})");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().field == "tiers[1].threshold");
    CHECK(parsed.error().detail == "duplicate key");
    auto top = Program::parse_text(R"({"currency": "EUR", "currency": "USD"})");
    REQUIRE_FALSE(top.ok());
    CHECK(top.error().field == "currency");
  }
  SECTION("a missing file names its path") {
    auto loaded = Program::load("/nonexistent/encore/program.json");
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().detail.find("/nonexistent/encore/program.json") != std::string::npos);
  }
  SECTION("a file on disk is validated like parsed text") {
    TempFile file(R"({"currency": "EUR", "earn": {"points_per_unit": 1, "unit_minor": 1.5}})");
    auto loaded = Program::load(file.path.string());
    REQUIRE_FALSE(loaded.ok());
    CHECK(loaded.error().field == "earn.unit_minor");
  }
}

TEST_CASE("version identifies the program content, not its formatting", "[program]") {
  const json document = example_document();
  auto first = Program::parse(document);
  REQUIRE(first.ok());
  CHECK(first->version.size() == 64);
  CHECK(first->version.find_first_not_of("0123456789abcdef") == std::string::npos);

  SECTION("the same content with other spacing and key order has the same version") {
    auto reformatted = Program::parse_text(document.dump(4));
    REQUIRE(reformatted.ok());
    CHECK(reformatted->version == first->version);
    auto reordered = Program::parse_text(
        R"({"earn": {"unit_minor": 100, "points_per_unit": 1}, "currency": "EUR"})");
    auto ordered = Program::parse_text(
        R"({"currency": "EUR", "earn": {"points_per_unit": 1, "unit_minor": 100}})");
    REQUIRE(reordered.ok());
    REQUIRE(ordered.ok());
    CHECK(reordered->version == ordered->version);
  }
  SECTION("any change of content changes the version") {
    json changed = document;
    changed["tiers"][1]["multiplier_bp"] = 13000;
    auto other = Program::parse(changed);
    REQUIRE(other.ok());
    CHECK(other->version != first->version);
  }
}

TEST_CASE("bounds accept their edge and refuse one past it", "[program]") {
  json document = minimal_document();
  SECTION("earn bounds") {
    document["earn"] = {{"points_per_unit", max_points_per_unit}, {"unit_minor", max_unit_minor}};
    CHECK(Program::parse(document).ok());
    document["earn"]["unit_minor"] = max_unit_minor + 1;
    CHECK(error_of(document).field == "earn.unit_minor");
  }
  SECTION("integers beyond int64 are out of range, not wrapped") {
    document["point_value_minor"] = std::numeric_limits<std::uint64_t>::max();
    CHECK(error_of(document).field == "point_value_minor");
  }
  SECTION("tier count") {
    json tiers = json::array();
    for (std::size_t i = 0; i < max_tiers; ++i) {
      tiers.push_back({{"name", "t" + std::to_string(i)},
                       {"threshold", static_cast<std::int64_t>(i) * 100},
                       {"multiplier_bp", max_multiplier_bp}});
    }
    document["tiers"] = tiers;
    CHECK(Program::parse(document).ok());
    tiers.push_back({{"name", "one-too-many"}, {"threshold", 1'000'000}, {"multiplier_bp", 1}});
    document["tiers"] = tiers;
    CHECK(error_of(document).field == "tiers");
  }
  SECTION("promotion count") {
    json promotions = json::array();
    for (std::size_t i = 0; i <= max_promotions; ++i) {
      promotions.push_back({{"id", "p" + std::to_string(i)},
                            {"kind", "multiplier"},
                            {"from", "2027-01-01"},
                            {"to", "2027-01-01"},
                            {"multiplier_bp", 20000}});
    }
    document["promotions"] = promotions;
    CHECK(error_of(document).field == "promotions");
    promotions.erase(promotions.size() - 1);
    document["promotions"] = promotions;
    CHECK(Program::parse(document).ok());
  }
  SECTION("days bounds") {
    document["tier_hold_days"] = 0;
    document["tier_window_days"] = max_days;
    CHECK(Program::parse(document).ok());
    document["tier_window_days"] = 0;
    CHECK(error_of(document).field == "tier_window_days");
  }
}

TEST_CASE("parse_json_strict refuses a number beyond double as invalid JSON") {
  // Found by tests/fuzz: nlohmann throws out_of_range (not parse_error) for such a literal.
  for (const char* text : {R"({"amount_minor": 1e400})", "-3e931", "[1, 2e999]"}) {
    auto parsed = parse_json_strict(text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::invalid_request);
    CHECK(parsed.error().field.empty());
  }
  CHECK(parse_json_strict(R"({"amount_minor": 1e300})"));
}
