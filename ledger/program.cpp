#include "ledger/program.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>

#include "ledger/hash.h"
#include "ledger/json_reader.h"
#include "ledger/program_reminders.h"

namespace encore {

using nlohmann::json;

namespace {

constexpr std::size_t max_name_bytes = 200;
constexpr std::size_t max_tier_name_bytes = 64;
constexpr std::int64_t max_points = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t max_bonus_points = 1'000'000'000'000;
constexpr std::int64_t max_point_value_minor = 1'000'000'000;
constexpr int max_nth_purchase = 1000;
// A program file is hand-written configuration; anything larger is a mistake, not a program.
constexpr std::size_t max_program_bytes = 1 << 20;

bool is_currency_code(std::string_view code) {
  if (code.size() != 3) return false;
  for (char c : code) {
    if (c < 'A' || c > 'Z') return false;
  }
  return true;
}

Failure parse_identity(ObjectReader& top, Program& program) {
  if (auto failure = top.string("name", Presence::optional, 0, max_name_bytes, program.name)) {
    return failure;
  }
  if (auto failure = top.string("currency", Presence::required, 0, 16, program.currency)) {
    return failure;
  }
  if (!is_currency_code(program.currency)) {
    return invalid_field("currency", "must be three upper-case letters (ISO 4217)");
  }
  if (auto failure = top.string("timezone", Presence::optional, 1, 64, program.timezone)) {
    return failure;
  }
  program.zone = find_zone(program.timezone);
  if (program.zone == nullptr) {
    return invalid_field("timezone", "unknown IANA time zone \"" + program.timezone + "\"");
  }
  return std::nullopt;
}

Failure parse_earn(ObjectReader& top, Program& program) {
  auto value = top.take_required("earn");
  if (!value) return value.error();
  auto earn = ObjectReader::open(**value, "earn");
  if (!earn) return earn.error();
  if (auto failure = earn->integer("points_per_unit", Presence::required, 1, max_points_per_unit,
                                   program.earn.points_per_unit)) {
    return failure;
  }
  if (auto failure = earn->integer("unit_minor", Presence::required, 1, max_unit_minor,
                                   program.earn.unit_minor)) {
    return failure;
  }
  return earn->finish();
}

Result<Tier> parse_tier(const json& value, const std::string& path) {
  auto reader = ObjectReader::open(value, path);
  if (!reader) return reader.error();
  Tier tier;
  if (auto failure =
          reader->string("name", Presence::required, 1, max_tier_name_bytes, tier.name)) {
    return *failure;
  }
  if (auto failure =
          reader->integer("threshold", Presence::required, 0, max_points, tier.threshold)) {
    return *failure;
  }
  if (auto failure = reader->integer("multiplier_bp", Presence::required, 1, max_multiplier_bp,
                                     tier.multiplier_bp)) {
    return *failure;
  }
  if (auto failure = reader->finish()) return *failure;
  return tier;
}

// Tiers are a ladder: the first is where every member starts, so its threshold is 0, and each
// next tier needs strictly more qualifying points (otherwise it could never be told apart).
Failure parse_tiers(ObjectReader& top, Program& program) {
  const json* value = top.take("tiers");
  if (value == nullptr) {
    program.tiers = {Tier{"base", 0, 10'000}};
    return std::nullopt;
  }
  if (auto failure = check_array(*value, "tiers", max_tiers)) return failure;
  if (value->empty()) return invalid_field("tiers", "must have at least one tier");
  std::set<std::string, std::less<>> names;
  for (std::size_t i = 0; i < value->size(); ++i) {
    const std::string path = index_path("tiers", i);
    auto tier = parse_tier((*value)[i], path);
    if (!tier) return tier.error();
    if (i == 0 && tier->threshold != 0) {
      return invalid_field(path + ".threshold", "the first tier's threshold must be 0");
    }
    if (i > 0 && tier->threshold <= program.tiers.back().threshold) {
      return invalid_field(path + ".threshold", "must be greater than the previous tier's");
    }
    if (!names.insert(tier->name).second) {
      return invalid_field(path + ".name", "duplicate tier name \"" + tier->name + "\"");
    }
    program.tiers.push_back(std::move(tier).value());
  }
  return std::nullopt;
}

Failure parse_windows(ObjectReader& top, Program& program) {
  if (auto failure = top.integer("tier_window_days", Presence::optional, 1, max_days,
                                 program.tier_window_days)) {
    return failure;
  }
  if (auto failure =
          top.integer("tier_hold_days", Presence::optional, 0, max_days, program.tier_hold_days)) {
    return failure;
  }
  if (auto failure =
          top.integer("pending_days", Presence::optional, 0, max_days, program.pending_days)) {
    return failure;
  }
  return top.integer("point_value_minor", Presence::optional, 0, max_point_value_minor,
                     program.point_value_minor);
}

Failure parse_refund_shortfall(ObjectReader& top, Program& program) {
  std::string policy = "debt";
  if (auto failure = top.string("refund_shortfall", Presence::optional, 0, 16, policy)) {
    return failure;
  }
  if (policy == "debt") {
    program.refund_shortfall = RefundShortfall::debt;
  } else if (policy == "clamp") {
    program.refund_shortfall = RefundShortfall::clamp;
  } else {
    return invalid_field("refund_shortfall", "must be \"debt\" or \"clamp\"");
  }
  return std::nullopt;
}

Failure parse_expiry(ObjectReader& top, Program& program) {
  const json* value = top.take("expiry");
  if (value == nullptr) return std::nullopt;  // policy none
  auto expiry = ObjectReader::open(*value, "expiry");
  if (!expiry) return expiry.error();
  std::string policy;
  if (auto failure = expiry->string("policy", Presence::required, 1, 16, policy)) return failure;
  if (policy == "none") {
    if (expiry->take("days") != nullptr) {
      return invalid_field("expiry.days", "not allowed with policy \"none\"");
    }
    program.expiry = ExpiryRule{ExpiryPolicy::none, 0};
    return expiry->finish();
  }
  if (policy == "fixed_term") {
    program.expiry.policy = ExpiryPolicy::fixed_term;
  } else if (policy == "inactivity") {
    program.expiry.policy = ExpiryPolicy::inactivity;
  } else {
    return invalid_field("expiry.policy", "must be \"none\", \"fixed_term\" or \"inactivity\"");
  }
  if (auto failure =
          expiry->integer("days", Presence::required, 1, max_days, program.expiry.days)) {
    return failure;
  }
  return expiry->finish();
}

Result<Promotion> parse_nth_purchase_bonus(ObjectReader& reader, std::string id) {
  NthPurchaseBonus bonus;
  bonus.id = std::move(id);
  if (auto failure = reader.integer("n", Presence::required, 2, max_nth_purchase, bonus.n)) {
    return *failure;
  }
  if (auto failure =
          reader.integer("within_days", Presence::required, 1, max_days, bonus.within_days)) {
    return *failure;
  }
  if (auto failure = reader.integer("bonus_points", Presence::required, 1, max_bonus_points,
                                    bonus.bonus_points)) {
    return *failure;
  }
  return Promotion{std::move(bonus)};
}

Failure read_date(ObjectReader& reader, std::string_view key, Date& out) {
  std::string text;
  if (auto failure = reader.string(key, Presence::required, 1, 10, text)) return failure;
  auto parsed = parse_date(text);
  if (!parsed) return invalid_field(reader.path_of(key), "must be a date YYYY-MM-DD");
  out = *parsed;
  return std::nullopt;
}

Result<Promotion> parse_multiplier_campaign(ObjectReader& reader, std::string id) {
  MultiplierCampaign campaign;
  campaign.id = std::move(id);
  if (auto failure = read_date(reader, "from", campaign.from)) return *failure;
  if (auto failure = read_date(reader, "to", campaign.to)) return *failure;
  if (campaign.to < campaign.from) {
    return invalid_field(reader.path_of("to"), "must not be before `from`");
  }
  if (auto failure = reader.integer("multiplier_bp", Presence::required, 1, max_multiplier_bp,
                                    campaign.multiplier_bp)) {
    return *failure;
  }
  return Promotion{std::move(campaign)};
}

Result<Promotion> parse_promotion(const json& value, const std::string& path, std::string& id) {
  auto reader = ObjectReader::open(value, path);
  if (!reader) return reader.error();
  if (auto failure = reader->string("id", Presence::required, 1, max_id_bytes, id)) {
    return *failure;
  }
  std::string kind;
  if (auto failure = reader->string("kind", Presence::required, 1, 32, kind)) return *failure;
  Result<Promotion> promotion =
      invalid_field(reader->path_of("kind"), R"(must be "nth_purchase_bonus" or "multiplier")");
  if (kind == "nth_purchase_bonus") promotion = parse_nth_purchase_bonus(*reader, id);
  if (kind == "multiplier") promotion = parse_multiplier_campaign(*reader, id);
  if (!promotion) return promotion;
  if (auto failure = reader->finish()) return *failure;
  return promotion;
}

Failure parse_promotions(ObjectReader& top, Program& program) {
  const json* value = top.take("promotions");
  if (value == nullptr) return std::nullopt;
  if (auto failure = check_array(*value, "promotions", max_promotions)) return failure;
  std::set<std::string, std::less<>> ids;
  for (std::size_t i = 0; i < value->size(); ++i) {
    const std::string path = index_path("promotions", i);
    std::string id;
    auto promotion = parse_promotion((*value)[i], path, id);
    if (!promotion) return promotion.error();
    // Bonus entries name their promotion, so an id must identify exactly one.
    if (!ids.insert(id).second) {
      return invalid_field(path + ".id", "duplicate promotion id \"" + id + "\"");
    }
    program.promotions.push_back(std::move(promotion).value());
  }
  return std::nullopt;
}

Failure parse_reminders_block(ObjectReader& top, Program& program) {
  const json* value = top.take("reminders");
  if (value == nullptr) return std::nullopt;
  auto reminders = parse_reminders(*value, "reminders");
  if (!reminders) return reminders.error();
  program.reminders = std::move(reminders).value();
  return std::nullopt;
}

}  // namespace

Result<Program> Program::parse(const json& document) {
  auto top = ObjectReader::open(document, "");
  if (!top) return top.error();
  Program program;
  for (auto* step : {parse_identity, parse_earn, parse_tiers, parse_windows, parse_refund_shortfall,
                     parse_expiry, parse_promotions, parse_reminders_block}) {
    if (auto failure = step(*top, program)) return *failure;
  }
  if (auto failure = top->finish()) return *failure;
  // nlohmann keeps object keys sorted, so dump() is canonical: the same content, however it was
  // formatted on disk, has the same version. `replace` only matters for non-UTF-8 strings, which
  // a parsed file cannot contain.
  program.version = to_hex(sha256(document.dump(-1, ' ', false, json::error_handler_t::replace)));
  program.source = document;
  return program;
}

Result<Program> Program::parse_text(std::string_view text) {
  auto document = parse_json_strict(text);
  if (!document) return document.error();
  return parse(*document);
}

Result<Program> Program::load(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return invalid_field("", "cannot open program file \"" + path + "\": " + std::strerror(errno));
  }
  std::string text;
  char buffer[8192];
  while (file.read(buffer, sizeof buffer) || file.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(file.gcount()));
    if (text.size() > max_program_bytes) {
      return invalid_field("", "program file \"" + path + "\" is larger than " +
                                   std::to_string(max_program_bytes) + " bytes");
    }
  }
  if (file.bad()) return invalid_field("", "cannot read program file \"" + path + "\"");
  return parse_text(text);
}

std::size_t Program::tier_index(std::string_view name) const {
  for (std::size_t i = 0; i < tiers.size(); ++i) {
    if (tiers[i].name == name) return i;
  }
  return 0;
}

}  // namespace encore
