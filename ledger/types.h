// The ledger's vocabulary: entries, lots, holds and the read models returned to callers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/clock.h"
#include "ledger/hash.h"
#include "ledger/program.h"

namespace encore {

inline constexpr std::size_t max_member_id_length = 64;
inline constexpr std::size_t max_order_id_length = 64;
inline constexpr std::size_t max_reason_length = 500;
inline constexpr std::size_t max_contact_length = 254;
inline constexpr std::int64_t max_amount_minor = (std::int64_t{1} << 53) - 1;
inline constexpr Points max_points_per_request = (std::int64_t{1} << 53) - 1;
inline constexpr std::int64_t default_hold_ttl_seconds = 900;
inline constexpr std::int64_t max_hold_ttl_seconds = 7 * 24 * 3600;
inline constexpr std::size_t max_entries_page = 200;
inline constexpr std::size_t default_entries_page = 50;
inline constexpr int max_expiring_dates = 3;

enum class EntryKind { earn, bonus, redeem, reverse, restore, expire, adjust };
std::string_view to_string(EntryKind kind);
std::optional<EntryKind> entry_kind_from(std::string_view text);

// Who posted: an API key's name, or `admin:<user>` for the CLI.
struct Actor {
  std::string name;
};

struct LotDraw {
  std::int64_t lot_id = 0;
  Points points = 0;  // positive: taken from (or, for restore, put back into) the lot
  bool operator==(const LotDraw&) const = default;
};

struct Entry {
  std::int64_t id = 0;
  std::string member_id;
  EntryKind kind = EntryKind::earn;
  Points points = 0;
  TimePoint occurred_at{};
  TimePoint recorded_at{};
  std::optional<std::string> order_id;
  std::optional<std::string> refund_id;
  std::optional<std::string> hold_id;
  std::optional<std::string> promotion_id;
  std::optional<std::string> reason;
  std::optional<std::string> reward;
  std::optional<std::int64_t> ref_entry_id;  // the entry this one corrects
  std::string actor;
  std::vector<LotDraw> lots;
  Sha256 hash{};
};

struct ExpiringPoints {
  Date date;  // local date at whose end the points expire
  Points points = 0;
};

struct NextTier {
  std::string name;
  Points points_needed = 0;
};

struct BalanceView {
  Points balance = 0;  // sum of entries, less points already past their expiry
  Points available = 0;
  Points pending = 0;
  Points held = 0;
  Points debt = 0;
  std::string tier;
  Points qualifying_points = 0;
  std::optional<NextTier> next_tier;
  std::vector<ExpiringPoints> expiring;
};

struct MemberProfile {
  std::string member_id;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> locale;
  bool marketing_opt_in = false;
  std::string tier;
  Points balance = 0;
  TimePoint enrolled_at{};
};

struct EnrolRequest {
  std::string member_id;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> locale;
  bool marketing_opt_in = false;
};

// PATCH semantics: an absent field is untouched; a present null clears it.
struct MemberPatch {
  std::optional<std::optional<std::string>> email;
  std::optional<std::optional<std::string>> phone;
  std::optional<std::optional<std::string>> locale;
  std::optional<bool> marketing_opt_in;
};

struct PurchaseRequest {
  std::string member_id;
  std::string order_id;
  std::int64_t amount_minor = 0;
  std::string currency;
  std::optional<TimePoint> occurred_at;
  std::optional<std::string> store_id;
};

struct PurchaseResult {
  std::string order_id;
  std::string member_id;
  Points points_earned = 0;
  Points bonus_points = 0;
  std::string tier;  // the tier after this purchase (an upgrade shows here)
  std::vector<Entry> entries;
  BalanceView balance;
};

struct RefundRequest {
  std::string order_id;
  std::string refund_id;
  std::int64_t amount_minor = 0;
};

struct RefundResult {
  std::string refund_id;
  std::string order_id;
  std::string member_id;
  Points points_reversed = 0;  // positive number of points taken back
  std::vector<Entry> entries;
  BalanceView balance;
};

struct RedemptionRequest {
  std::string member_id;
  Points points = 0;
  std::optional<std::string> order_id;
  std::optional<std::string> reward;
};

struct HoldRequest {
  std::string member_id;
  Points points = 0;
  std::optional<std::string> order_id;
  std::optional<std::int64_t> ttl_seconds;
};

enum class HoldState { open, captured, released, expired };
std::string_view to_string(HoldState state);

struct HoldView {
  std::string hold_id;
  std::string member_id;
  Points points = 0;
  HoldState state = HoldState::open;
  std::optional<std::string> order_id;
  TimePoint created_at{};
  TimePoint expires_at{};
  Points captured_points = 0;
  bool operator==(const HoldView&) const = default;
};

struct AdjustRequest {
  std::string member_id;
  Points points = 0;
  std::string reason;
  // Credits only, for `encore-admin import`: the new lot's expiry instead of the program's
  // policy (a legacy program's opening balance keeps its own). The API never sets it.
  std::optional<TimePoint> lot_expires_at;
};

// Result of any write that posts entries for one member.
struct PostingResult {
  std::string member_id;
  std::vector<Entry> entries;
  BalanceView balance;
  std::optional<HoldView> hold;
};

struct Quote {
  Points points = 0;  // earn + bonus
  Points earn_points = 0;
  Points bonus_points = 0;
  std::string tier;
  std::int64_t tier_multiplier_bp = 10'000;
  std::int64_t campaign_multiplier_bp = 10'000;
  std::vector<std::string> promotions;
};

struct EntriesPage {
  std::vector<Entry> entries;
  std::optional<std::int64_t> next_cursor;
};

struct TierChange {
  std::optional<std::string> from_tier;
  std::string to_tier;
  TimePoint changed_at{};
  Points qualifying_points = 0;
  std::string reason;
};

struct ExpiryRunResult {
  std::int64_t members = 0;
  std::int64_t entries = 0;
  Points points = 0;  // positive number of points expired
};

struct TierRecomputeChunk {
  std::int64_t members = 0;    // looked at in this chunk
  std::int64_t changed = 0;    // of which changed tier
  std::string last_member_id;  // where the next chunk starts; meaningless when members == 0
};

// Validation shared by the API and the CLI.
bool valid_member_id(std::string_view id);  // 1-64 chars of [A-Za-z0-9._:-]
bool valid_order_id(std::string_view id);   // same alphabet and length

}  // namespace encore
