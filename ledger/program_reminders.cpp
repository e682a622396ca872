#include "ledger/program_reminders.h"

#include <algorithm>
#include <array>
#include <limits>
#include <set>

#include "ledger/json_reader.h"

namespace encore {

using nlohmann::json;

namespace {

constexpr std::int64_t max_points = std::numeric_limits<std::int64_t>::max();
constexpr std::size_t max_days_before = 16;
constexpr std::size_t max_locale_bytes = 35;  // BCP 47's practical limit
constexpr std::size_t max_path_bytes = 4096;

constexpr std::array<std::string_view, 3> kind_names = {"expiring_soon", "dormant",
                                                        "second_purchase"};
constexpr std::array<std::string_view, 4> placeholders = {"points", "expiring_points", "expires_on",
                                                          "member_id"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

Failure read_days_before(const json& value, const std::string& path, std::vector<int>& out) {
  if (!value.is_array()) {
    int days = 0;
    if (auto failure = read_integer(value, path, 1, max_days, days)) return failure;
    out = {days};
    return std::nullopt;
  }
  if (auto failure = check_array(value, path, max_days_before)) return failure;
  if (value.empty()) return invalid_field(path, "must not be an empty array");
  for (std::size_t i = 0; i < value.size(); ++i) {
    int days = 0;
    if (auto failure = read_integer(value[i], index_path(path, i), 1, max_days, days)) {
      return failure;
    }
    if (std::find(out.begin(), out.end(), days) != out.end()) {
      return invalid_field(index_path(path, i), "duplicate value " + std::to_string(days));
    }
    out.push_back(days);
  }
  return std::nullopt;
}

Failure parse_rule_kind(ObjectReader& reader, ReminderRule& rule) {
  std::string kind;
  if (auto failure = reader.string("kind", Presence::required, 1, 32, kind)) return failure;
  if (kind == "expiring_soon") {
    rule.kind = ReminderKind::expiring_soon;
    auto days_before = reader.take_required("days_before");
    if (!days_before) return days_before.error();
    if (auto failure =
            read_days_before(**days_before, reader.path_of("days_before"), rule.days_before)) {
      return failure;
    }
  } else if (kind == "dormant" || kind == "second_purchase") {
    rule.kind = kind == "dormant" ? ReminderKind::dormant : ReminderKind::second_purchase;
    if (auto failure = reader.integer("days", Presence::required, 1, max_days, rule.days)) {
      return failure;
    }
  } else {
    return invalid_field(reader.path_of("kind"),
                         R"(must be "expiring_soon", "dormant" or "second_purchase")");
  }
  if (rule.kind == ReminderKind::second_purchase) return std::nullopt;  // no balance condition
  return reader.integer("min_points", Presence::optional, 0, max_points, rule.min_points);
}

Result<ReminderRule> parse_rule(const json& value, const std::string& path) {
  auto reader = ObjectReader::open(value, path);
  if (!reader) return reader.error();
  ReminderRule rule;
  if (auto failure = reader->string("id", Presence::required, 1, max_id_bytes, rule.id)) {
    return *failure;
  }
  if (auto failure = parse_rule_kind(*reader, rule)) return *failure;
  if (auto failure = reader->finish()) return *failure;
  return rule;
}

Failure parse_rules(const json& value, const std::string& path, Reminders& reminders) {
  if (auto failure = check_array(value, path, max_reminder_rules)) return failure;
  std::set<std::string, std::less<>> ids;
  for (std::size_t i = 0; i < value.size(); ++i) {
    auto rule = parse_rule(value[i], index_path(path, i));
    if (!rule) return rule.error();
    // Sent reminders and the conversion report name their rule, so ids must be unique.
    if (!ids.insert(rule->id).second) {
      return invalid_field(index_path(path, i) + ".id", "duplicate rule id \"" + rule->id + "\"");
    }
    reminders.rules.push_back(std::move(rule).value());
  }
  return std::nullopt;
}

// Placeholders are `{name}` with a known name; a typo would otherwise reach members verbatim.
Failure check_placeholders(std::string_view text, const std::string& path) {
  for (std::size_t open = text.find('{'); open != std::string_view::npos;
       open = text.find('{', open + 1)) {
    const std::size_t close = text.find('}', open);
    if (close == std::string_view::npos) {
      return invalid_field(path, "unclosed `{` at byte " + std::to_string(open));
    }
    const std::string_view name = text.substr(open + 1, close - open - 1);
    if (!contains(placeholders, name)) {
      return invalid_field(path, "unknown placeholder {" + std::string(name) +
                                     "}; allowed: {points} {expiring_points} {expires_on} "
                                     "{member_id}");
    }
  }
  return std::nullopt;
}

bool is_locale(std::string_view locale) {
  if (locale.empty() || locale.size() > max_locale_bytes) return false;
  return std::all_of(locale.begin(), locale.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
  });
}

Failure parse_locale_templates(const json& value, const std::string& path,
                               std::map<std::string, std::string>& out) {
  if (!value.is_object()) {
    return invalid_field(path, std::string("must be an object, not ") + value.type_name());
  }
  for (const auto& item : value.items()) {
    const std::string item_path = child_path(path, item.key());
    if (!contains(kind_names, item.key())) {
      return invalid_field(item_path,
                           "unknown reminder kind; expected expiring_soon, dormant "
                           "or second_purchase");
    }
    std::string text;
    if (auto failure = read_string(item.value(), item_path, 1, max_template_bytes, text)) {
      return failure;
    }
    if (auto failure = check_placeholders(text, item_path)) return failure;
    out.emplace(item.key(), std::move(text));
  }
  return std::nullopt;
}

Failure parse_templates(const json& value, const std::string& path, Reminders& reminders) {
  if (!value.is_object()) {
    return invalid_field(path, std::string("must be an object, not ") + value.type_name());
  }
  if (value.size() > max_locales) {
    return invalid_field(path, "must have at most " + std::to_string(max_locales) + " locales");
  }
  for (const auto& item : value.items()) {
    const std::string item_path = child_path(path, item.key());
    if (!is_locale(item.key())) {
      return invalid_field(item_path, "locale must be 1-35 characters of [A-Za-z0-9-]");
    }
    if (auto failure =
            parse_locale_templates(item.value(), item_path, reminders.templates[item.key()])) {
      return failure;
    }
  }
  return std::nullopt;
}

Failure check_run_at(std::string_view text, const std::string& path) {
  auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  const bool shaped =
      text.size() == 5 && text[2] == ':' && digit(0) && digit(1) && digit(3) && digit(4);
  if (!shaped || (text[0] - '0') * 10 + (text[1] - '0') > 23 || text[3] > '5') {
    return invalid_field(path, "must be HH:MM between 00:00 and 23:59");
  }
  return std::nullopt;
}

bool is_env_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

Result<WebhookSink> parse_webhook(ObjectReader& reader) {
  WebhookSink sink;
  if (auto failure = reader.string("url", Presence::required, 1, 2048, sink.url)) return *failure;
  // The body carries member ids and balances; it never travels in clear text.
  if (!sink.url.starts_with("https://") || sink.url.size() == 8) {
    return invalid_field(reader.path_of("url"), "must be an https:// URL");
  }
  if (auto failure = reader.string("secret_env", Presence::required, 1, 128, sink.secret_env)) {
    return *failure;
  }
  if (!is_env_name(sink.secret_env)) {
    return invalid_field(reader.path_of("secret_env"),
                         "must be an environment variable name [A-Z_][A-Z0-9_]*");
  }
  if (auto failure =
          reader.integer("max_attempts", Presence::optional, 1, 100, sink.max_attempts)) {
    return *failure;
  }
  if (const json* ca_file = reader.take("ca_file")) {
    std::string path;
    if (auto failure = read_string(*ca_file, reader.path_of("ca_file"), 1, max_path_bytes, path)) {
      return *failure;
    }
    sink.ca_file = std::move(path);
  }
  if (auto failure =
          reader.integer("timeout_seconds", Presence::optional, 1, 120, sink.timeout_seconds)) {
    return *failure;
  }
  return sink;
}

Failure parse_sink(const json& value, const std::string& path, Reminders& reminders) {
  auto reader = ObjectReader::open(value, path);
  if (!reader) return reader.error();
  std::string kind;
  if (auto failure = reader->string("kind", Presence::required, 1, 16, kind)) return failure;
  if (kind == "webhook") {
    auto webhook = parse_webhook(*reader);
    if (!webhook) return webhook.error();
    reminders.sink = std::move(webhook).value();
  } else if (kind == "file") {
    FileSink file;
    if (auto failure = reader->string("path", Presence::required, 1, max_path_bytes, file.path)) {
      return failure;
    }
    reminders.sink = std::move(file);
  } else {
    return invalid_field(reader->path_of("kind"), R"(must be "webhook" or "file")");
  }
  return reader->finish();
}

Failure parse_limits(ObjectReader& reader, Reminders& reminders) {
  if (auto failure =
          reader.integer("min_gap_days", Presence::optional, 0, 365, reminders.min_gap_days)) {
    return failure;
  }
  if (auto failure = reader.integer("max_per_30_days", Presence::optional, 1, 1000,
                                    reminders.max_per_30_days)) {
    return failure;
  }
  if (auto failure = reader.integer("attribution_days", Presence::optional, 1, 365,
                                    reminders.attribution_days)) {
    return failure;
  }
  if (auto failure = reader.string("run_at", Presence::optional, 0, 16, reminders.run_at)) {
    return failure;
  }
  return check_run_at(reminders.run_at, reader.path_of("run_at"));
}

Failure parse_locales(ObjectReader& reader, Reminders& reminders) {
  if (const json* templates = reader.take("templates")) {
    if (auto failure = parse_templates(*templates, reader.path_of("templates"), reminders)) {
      return failure;
    }
  }
  const std::string path = reader.path_of("default_locale");
  if (auto failure = reader.string("default_locale", Presence::optional, 0, max_locale_bytes,
                                   reminders.default_locale)) {
    return failure;
  }
  if (!is_locale(reminders.default_locale)) {
    return invalid_field(path, "locale must be 1-35 characters of [A-Za-z0-9-]");
  }
  // A member whose locale has no template falls back to the default, so it must exist.
  if (!reminders.templates.empty() && !reminders.templates.contains(reminders.default_locale)) {
    return invalid_field(path,
                         "no templates for default locale \"" + reminders.default_locale + "\"");
  }
  return std::nullopt;
}

}  // namespace

Result<Reminders> parse_reminders(const json& value, const std::string& path) {
  auto reader = ObjectReader::open(value, path);
  if (!reader) return reader.error();
  Reminders reminders;
  if (const json* rules = reader->take("rules")) {
    if (auto failure = parse_rules(*rules, reader->path_of("rules"), reminders)) return *failure;
  }
  if (auto failure = parse_limits(*reader, reminders)) return *failure;
  if (auto failure = parse_locales(*reader, reminders)) return *failure;
  if (const json* sink = reader->take("sink")) {
    if (auto failure = parse_sink(*sink, reader->path_of("sink"), reminders)) return *failure;
  }
  if (auto failure = reader->finish()) return *failure;
  return reminders;
}

}  // namespace encore
