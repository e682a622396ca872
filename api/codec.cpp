#include "api/codec.h"

#include <algorithm>
#include <charconv>

#include "ledger/json_reader.h"
#include "ledger/time_zone.h"

namespace encore::api {
namespace {

using nlohmann::json;
constexpr std::int64_t max_safe_integer = (std::int64_t{1} << 53) - 1;

Result<ObjectReader> body_object(const json& body) {
  return ObjectReader::open(body, "");
}

// An optional string that may also be given as null (treated as absent).
Failure optional_string(ObjectReader& r, std::string_view key, std::size_t max_bytes,
                        std::optional<std::string>& out) {
  const json* v = r.take(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  std::string s;
  if (auto f = read_string(*v, r.path_of(key), 1, max_bytes, s)) return f;
  out = std::move(s);
  return std::nullopt;
}

// PATCH: absent -> untouched, null -> clear, string -> set.
Failure patch_string(ObjectReader& r, std::string_view key, std::size_t max_bytes,
                     std::optional<std::optional<std::string>>& out) {
  const json* v = r.take(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_null()) {
    out = std::optional<std::string>{};
    return std::nullopt;
  }
  std::string s;
  if (auto f = read_string(*v, r.path_of(key), 1, max_bytes, s)) return f;
  out = std::optional<std::string>{std::move(s)};
  return std::nullopt;
}

Failure optional_bool(ObjectReader& r, std::string_view key, std::optional<bool>& out) {
  const json* v = r.take(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) return invalid_field(r.path_of(key), "must be true or false");
  out = v->get<bool>();
  return std::nullopt;
}

Failure optional_time(ObjectReader& r, std::string_view key, std::optional<TimePoint>& out) {
  const json* v = r.take(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) return invalid_field(r.path_of(key), "must be an RFC 3339 time string");
  auto t = parse_rfc3339(v->get_ref<const std::string&>());
  if (!t) {
    return invalid_field(r.path_of(key), "must be an RFC 3339 time like 2026-11-22T09:30:00Z");
  }
  out = *t;
  return std::nullopt;
}

template <class T>
Failure optional_int(ObjectReader& r, std::string_view key, std::int64_t min, std::int64_t max,
                     std::optional<T>& out) {
  const json* v = r.take(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  std::int64_t n = 0;
  if (auto f = read_integer(*v, r.path_of(key), min, max, n)) return f;
  out = static_cast<T>(n);
  return std::nullopt;
}

}  // namespace

Result<EnrolRequest> decode_enrol(const json& body) {
  auto r = body_object(body);
  if (!r) return r.error();
  EnrolRequest out;
  std::optional<bool> opt_in;
  if (auto f = r->string("member_id", Presence::required, 1, max_member_id_length, out.member_id))
    return *f;
  if (auto f = optional_string(*r, "email", max_contact_length, out.email)) return *f;
  if (auto f = optional_string(*r, "phone", 32, out.phone)) return *f;
  if (auto f = optional_string(*r, "locale", 35, out.locale)) return *f;
  if (auto f = optional_bool(*r, "marketing_opt_in", opt_in)) return *f;
  if (auto f = r->finish()) return *f;
  out.marketing_opt_in = opt_in.value_or(false);
  return out;
}

Result<MemberPatch> decode_member_patch(const json& body) {
  auto r = body_object(body);
  if (!r) return r.error();
  MemberPatch out;
  if (auto f = patch_string(*r, "email", max_contact_length, out.email)) return *f;
  if (auto f = patch_string(*r, "phone", 32, out.phone)) return *f;
  if (auto f = patch_string(*r, "locale", 35, out.locale)) return *f;
  if (auto f = optional_bool(*r, "marketing_opt_in", out.marketing_opt_in)) return *f;
  if (auto f = r->finish()) return *f;
  if (!out.email && !out.phone && !out.locale && !out.marketing_opt_in) {
    return invalid_field("", "give at least one of email, phone, locale, marketing_opt_in");
  }
  return out;
}

Result<PurchaseRequest> decode_purchase(const json& body) {
  auto r = body_object(body);
  if (!r) return r.error();
  PurchaseRequest out;
  if (auto f = r->string("member_id", Presence::required, 1, max_member_id_length, out.member_id))
    return *f;
  if (auto f = r->string("order_id", Presence::required, 1, max_order_id_length, out.order_id))
    return *f;
  if (auto f =
          r->integer("amount_minor", Presence::required, 1, max_safe_integer, out.amount_minor))
    return *f;
  if (auto f = r->string("currency", Presence::required, 3, 3, out.currency)) return *f;
  if (auto f = optional_time(*r, "occurred_at", out.occurred_at)) return *f;
  if (auto f = optional_string(*r, "store_id", 64, out.store_id)) return *f;
  if (auto f = r->finish()) return *f;
  return out;
}

Result<RefundRequest> decode_refund(const json& body) {
  auto r = body_object(body);
  if (!r) return r.error();
  RefundRequest out;
  if (auto f = r->string("order_id", Presence::required, 1, max_order_id_length, out.order_id))
    return *f;
  if (auto f = r->string("refund_id", Presence::required, 1, max_order_id_length, out.refund_id))
    return *f;
  if (auto f =
          r->integer("amount_minor", Presence::required, 1, max_safe_integer, out.amount_minor))
    return *f;
  if (auto f = r->finish()) return *f;
  return out;
}

Result<RedemptionRequest> decode_redemption(const json& body) {
  auto r = body_object(body);
  if (!r) return r.error();
  RedemptionRequest out;
  if (auto f = r->string("member_id", Presence::required, 1, max_member_id_length, out.member_id))
    return *f;
  if (auto f = r->integer("points", Presence::required, 1, max_safe_integer, out.points)) return *f;
  if (auto f = optional_string(*r, "order_id", max_order_id_length, out.order_id)) return *f;
  if (auto f = optional_string(*r, "reward", 200, out.reward)) return *f;
  if (auto f = r->finish()) return *f;
  return out;
}

Result<HoldRequest> decode_hold(const json& body) {
  auto r = body_object(body);
  if (!r) return r.error();
  HoldRequest out;
  if (auto f = r->string("member_id", Presence::required, 1, max_member_id_length, out.member_id))
    return *f;
  if (auto f = r->integer("points", Presence::required, 1, max_safe_integer, out.points)) return *f;
  if (auto f = optional_string(*r, "order_id", max_order_id_length, out.order_id)) return *f;
  if (auto f = optional_int(*r, "ttl_seconds", 1, max_hold_ttl_seconds, out.ttl_seconds)) return *f;
  if (auto f = r->finish()) return *f;
  return out;
}

Result<std::optional<Points>> decode_capture(const json& body) {
  if (body.is_null()) return std::optional<Points>{};
  auto r = body_object(body);
  if (!r) return r.error();
  std::optional<Points> points;
  if (auto f = optional_int(*r, "points", 1, max_safe_integer, points)) return *f;
  if (auto f = r->finish()) return *f;
  return points;
}

Result<AdjustRequest> decode_adjustment(const json& body) {
  auto r = body_object(body);
  if (!r) return r.error();
  AdjustRequest out;
  if (auto f = r->string("member_id", Presence::required, 1, max_member_id_length, out.member_id))
    return *f;
  if (auto f =
          r->integer("points", Presence::required, -max_safe_integer, max_safe_integer, out.points))
    return *f;
  if (out.points == 0) return invalid_field("points", "must not be zero");
  if (auto f = r->string("reason", Presence::required, 1, max_reason_length, out.reason)) return *f;
  if (auto f = r->finish()) return *f;
  return out;
}

Result<std::string> decode_reversal(const json& body) {
  auto r = body_object(body);
  if (!r) return r.error();
  std::string reason;
  if (auto f = r->string("reason", Presence::required, 1, max_reason_length, reason)) return *f;
  if (auto f = r->finish()) return *f;
  return reason;
}

namespace {
json optional_json(const std::optional<std::string>& s) {
  return s ? json(*s) : json(nullptr);
}
}  // namespace

json encode(const Entry& e) {
  json j = {{"id", e.id},
            {"kind", to_string(e.kind)},
            {"points", e.points},
            {"occurred_at", format_rfc3339(e.occurred_at)},
            {"recorded_at", format_rfc3339(e.recorded_at)},
            {"actor", e.actor}};
  if (e.order_id) j["order_id"] = *e.order_id;
  if (e.refund_id) j["refund_id"] = *e.refund_id;
  if (e.hold_id) j["hold_id"] = *e.hold_id;
  if (e.promotion_id) j["promotion_id"] = *e.promotion_id;
  if (e.reason) j["reason"] = *e.reason;
  if (e.reward) j["reward"] = *e.reward;
  if (e.ref_entry_id) j["ref_entry_id"] = *e.ref_entry_id;
  if (!e.lots.empty()) {
    json lots = json::array();
    for (const auto& d : e.lots) lots.push_back({{"lot_id", d.lot_id}, {"points", d.points}});
    j["lots"] = std::move(lots);
  }
  return j;
}

json encode(const BalanceView& b) {
  json expiring = json::array();
  for (const auto& x : b.expiring) {
    expiring.push_back({{"date", format_date(x.date)}, {"points", x.points}});
  }
  json next = nullptr;
  if (b.next_tier) {
    next = {{"name", b.next_tier->name}, {"points_needed", b.next_tier->points_needed}};
  }
  return {{"balance", b.balance},
          {"available", b.available},
          {"pending", b.pending},
          {"held", b.held},
          {"debt", b.debt},
          {"tier", b.tier},
          {"qualifying_points", b.qualifying_points},
          {"next_tier", std::move(next)},
          {"expiring", std::move(expiring)}};
}

namespace {
// Plain printable ASCII (tier names in practice) is quoted as is, which is exactly what
// nlohmann writes for it; anything else (quotes, backslashes, control characters, UTF-8) goes
// through nlohmann's escaper so the bytes stay identical.
void append_string(std::string& out, const std::string& text) {
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 && byte < 0x7f && c != '"' && c != '\\';
  });
  if (!plain) {
    out += json(text).dump(-1, ' ', false, json::error_handler_t::replace);
    return;
  }
  out += '"';
  out += text;
  out += '"';
}
void append_field(std::string& out, const char* name, Points value, bool comma = true) {
  out += '"';
  out += name;
  out += "\":";
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out.append(digits, end);
  if (comma) out += ',';
}

void append_key(std::string& out, const char* name) {
  out += '"';
  out += name;
  out += "\":";
}
void append_string_field(std::string& out, const char* name, const std::string& text) {
  append_key(out, name);
  append_string(out, text);
  out += ',';
}

// Every render_* below writes keys in nlohmann's order (std::map: sorted), without spaces, so
// the bytes equal encode(x).dump() (tests/api/codec_test.cpp checks each against the tree).
void append_balance(std::string& out, const BalanceView& b) {
  out += '{';
  append_field(out, "available", b.available);
  append_field(out, "balance", b.balance);
  append_field(out, "debt", b.debt);
  out += "\"expiring\":[";
  for (std::size_t i = 0; i < b.expiring.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"date\":\"";
    append_date(out, b.expiring[i].date);
    out += "\",";
    append_field(out, "points", b.expiring[i].points, false);
    out += '}';
  }
  out += "],";
  append_field(out, "held", b.held);
  out += "\"next_tier\":";
  if (b.next_tier) {
    out += "{\"name\":";
    append_string(out, b.next_tier->name);
    out += ',';
    append_field(out, "points_needed", b.next_tier->points_needed, false);
    out += '}';
  } else {
    out += "null";
  }
  out += ',';
  append_field(out, "pending", b.pending);
  append_field(out, "qualifying_points", b.qualifying_points);
  out += "\"tier\":";
  append_string(out, b.tier);
  out += '}';
}

void append_entry(std::string& out, const Entry& e) {
  out += '{';
  append_string_field(out, "actor", e.actor);
  if (e.hold_id) append_string_field(out, "hold_id", *e.hold_id);
  append_field(out, "id", e.id);
  out += "\"kind\":\"";
  out += to_string(e.kind);
  out += "\",";
  if (!e.lots.empty()) {
    out += "\"lots\":[";
    for (std::size_t i = 0; i < e.lots.size(); ++i) {
      if (i > 0) out += ',';
      out += '{';
      append_field(out, "lot_id", e.lots[i].lot_id);
      append_field(out, "points", e.lots[i].points, false);
      out += '}';
    }
    out += "],";
  }
  append_string_field(out, "occurred_at", format_rfc3339(e.occurred_at));
  if (e.order_id) append_string_field(out, "order_id", *e.order_id);
  append_field(out, "points", e.points);
  if (e.promotion_id) append_string_field(out, "promotion_id", *e.promotion_id);
  if (e.reason) append_string_field(out, "reason", *e.reason);
  append_key(out, "recorded_at");
  append_string(out, format_rfc3339(e.recorded_at));
  if (e.ref_entry_id) {
    out += ',';
    append_field(out, "ref_entry_id", *e.ref_entry_id, false);
  }
  if (e.refund_id) {
    out += ',';
    append_key(out, "refund_id");
    append_string(out, *e.refund_id);
  }
  if (e.reward) {
    out += ',';
    append_key(out, "reward");
    append_string(out, *e.reward);
  }
  out += '}';
}

}  // namespace

std::string render_balance(const BalanceView& b) {
  std::string out;
  out.reserve(256);
  append_balance(out, b);
  return out;
}

std::string render_purchase(const PurchaseResult& r) {
  std::string out;
  out.reserve(1024);
  out += "{\"balance\":";
  append_balance(out, r.balance);
  out += ',';
  append_field(out, "bonus_points", r.bonus_points);
  out += "\"entries\":[";
  for (std::size_t i = 0; i < r.entries.size(); ++i) {
    if (i > 0) out += ',';
    append_entry(out, r.entries[i]);
  }
  out += "],";
  append_string_field(out, "member_id", r.member_id);
  append_string_field(out, "order_id", r.order_id);
  append_field(out, "points_earned", r.points_earned);
  append_key(out, "tier");
  append_string(out, r.tier);
  out += '}';
  return out;
}

json encode(const MemberProfile& m) {
  return {{"member_id", m.member_id},
          {"email", optional_json(m.email)},
          {"phone", optional_json(m.phone)},
          {"locale", optional_json(m.locale)},
          {"marketing_opt_in", m.marketing_opt_in},
          {"tier", m.tier},
          {"balance", m.balance},
          {"enrolled_at", format_rfc3339(m.enrolled_at)}};
}

json encode(const HoldView& h) {
  json j = {{"hold_id", h.hold_id},
            {"member_id", h.member_id},
            {"points", h.points},
            {"state", to_string(h.state)},
            {"created_at", format_rfc3339(h.created_at)},
            {"expires_at", format_rfc3339(h.expires_at)},
            {"captured_points", h.captured_points}};
  if (h.order_id) j["order_id"] = *h.order_id;
  return j;
}

json encode_entries(const std::vector<Entry>& entries) {
  json out = json::array();
  for (const auto& e : entries) out.push_back(encode(e));
  return out;
}

json encode(const PurchaseResult& r) {
  return {{"order_id", r.order_id},
          {"member_id", r.member_id},
          {"points_earned", r.points_earned},
          {"bonus_points", r.bonus_points},
          {"tier", r.tier},
          {"entries", encode_entries(r.entries)},
          {"balance", encode(r.balance)}};
}

json encode(const RefundResult& r) {
  return {{"refund_id", r.refund_id},
          {"order_id", r.order_id},
          {"member_id", r.member_id},
          {"points_reversed", r.points_reversed},
          {"entries", encode_entries(r.entries)},
          {"balance", encode(r.balance)}};
}

json encode(const Quote& q) {
  return {{"points", q.points},
          {"earn_points", q.earn_points},
          {"bonus_points", q.bonus_points},
          {"tier", q.tier},
          {"tier_multiplier_bp", q.tier_multiplier_bp},
          {"campaign_multiplier_bp", q.campaign_multiplier_bp},
          {"promotions", q.promotions}};
}

json encode(const EntriesPage& page) {
  return {
      {"entries", encode_entries(page.entries)},
      {"next_cursor", page.next_cursor ? json(std::to_string(*page.next_cursor)) : json(nullptr)}};
}

json encode(const TierChange& c) {
  return {{"from_tier", optional_json(c.from_tier)},
          {"to_tier", c.to_tier},
          {"changed_at", format_rfc3339(c.changed_at)},
          {"qualifying_points", c.qualifying_points},
          {"reason", c.reason}};
}

json encode_tier_history(const std::string& member_id, const std::string& tier,
                         const std::vector<TierChange>& changes) {
  json list = json::array();
  for (const auto& c : changes) list.push_back(encode(c));
  return {{"member_id", member_id}, {"tier", tier}, {"changes", std::move(list)}};
}

namespace {
// The entry a redemption or capture posted: the last one (a refresh may post expiries first).
json last_entry(const PostingResult& r) {
  return r.entries.empty() ? json(nullptr) : encode(r.entries.back());
}
}  // namespace

json encode_redemption(const PostingResult& r) {
  return {{"entry", last_entry(r)}, {"balance", encode(r.balance)}};
}

json encode_capture(const PostingResult& r) {
  return {{"hold", encode(*r.hold)}, {"entry", last_entry(r)}, {"balance", encode(r.balance)}};
}

json encode_release(const PostingResult& r) {
  return {{"hold", encode(*r.hold)}, {"balance", encode(r.balance)}};
}

json encode_posting(const PostingResult& r) {
  return {{"entries", encode_entries(r.entries)}, {"balance", encode(r.balance)}};
}

}  // namespace encore::api
