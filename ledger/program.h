// The loyalty program (program.json, SPEC 3 and 7), validated strictly on load: an unknown key or
// a bad value is an Error whose `field` is the JSON path (e.g. `tiers[1].multiplier_bp`).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ledger/result.h"
#include "ledger/time_zone.h"

namespace encore {

using Points = std::int64_t;

// Validation bounds: they keep the earn product inside __int128 and names readable.
inline constexpr std::int64_t max_points_per_unit = 1'000'000;
inline constexpr std::int64_t max_unit_minor = 1'000'000'000;
inline constexpr std::int64_t max_multiplier_bp = 1'000'000;  // 100x
inline constexpr int max_days = 36'600;                       // 100 years
inline constexpr std::size_t max_tiers = 32;
inline constexpr std::size_t max_promotions = 256;
inline constexpr std::size_t max_reminder_rules = 64;

struct EarnRule {
  std::int64_t points_per_unit = 1;
  std::int64_t unit_minor = 100;
};

struct Tier {
  std::string name;
  Points threshold = 0;
  std::int64_t multiplier_bp = 10'000;
};

enum class ExpiryPolicy { none, fixed_term, inactivity };

struct ExpiryRule {
  ExpiryPolicy policy = ExpiryPolicy::none;
  int days = 0;  // > 0 unless policy is none
};

struct NthPurchaseBonus {
  std::string id;
  int n = 2;
  int within_days = 30;
  Points bonus_points = 0;
};

struct MultiplierCampaign {
  std::string id;
  Date from;  // inclusive, local dates in the program's time zone
  Date to;    // inclusive
  std::int64_t multiplier_bp = 10'000;
};

using Promotion = std::variant<NthPurchaseBonus, MultiplierCampaign>;

enum class RefundShortfall { debt, clamp };

enum class ReminderKind { expiring_soon, dormant, second_purchase };

struct ReminderRule {
  std::string id;
  ReminderKind kind = ReminderKind::expiring_soon;
  std::vector<int> days_before;  // expiring_soon: one or more (`days_before` may be int or array)
  int days = 0;                  // dormant, second_purchase
  Points min_points = 0;
};

struct WebhookSink {
  std::string url;         // https only
  std::string secret_env;  // name of the environment variable holding the HMAC secret
  int max_attempts = 8;
  std::optional<std::string> ca_file;
  int timeout_seconds = 10;
};

struct FileSink {
  std::string path;
};

struct Reminders {
  std::vector<ReminderRule> rules;
  int min_gap_days = 7;
  int max_per_30_days = 4;
  int attribution_days = 14;
  std::string run_at = "10:00";  // HH:MM in the program's time zone
  std::string default_locale = "en";
  // locale -> (kind name -> template). Placeholders: {points} {expiring_points} {expires_on}
  // {member_id}; any other `{name}` is a validation error.
  std::map<std::string, std::map<std::string, std::string>> templates;
  std::variant<std::monostate, WebhookSink, FileSink> sink;
};

struct Program {
  std::string name;
  std::string currency;  // ISO 4217, three upper-case letters, required
  std::string timezone = "UTC";
  const date::time_zone* zone = nullptr;  // resolved `timezone`, never null after parse
  EarnRule earn;
  std::vector<Tier> tiers;  // ordered by threshold, first threshold 0, at least one
  int tier_window_days = 365;
  int tier_hold_days = 365;
  int pending_days = 0;
  ExpiryRule expiry;
  std::vector<Promotion> promotions;
  RefundShortfall refund_shortfall = RefundShortfall::debt;
  std::int64_t point_value_minor = 1;  // money value of one point, for liability reports
  std::optional<Reminders> reminders;
  std::string version;    // hex SHA-256 of the canonical JSON (nlohmann dump of the input)
  nlohmann::json source;  // the validated document, for GET /v1/program

  // Validates strictly; unknown keys anywhere are errors naming their path.
  static Result<Program> parse(const nlohmann::json& document);
  static Result<Program> parse_text(std::string_view text);
  static Result<Program> load(const std::string& path);

  // Index of the tier named `name`, or 0 when unknown (the base tier).
  std::size_t tier_index(std::string_view name) const;
};

}  // namespace encore
