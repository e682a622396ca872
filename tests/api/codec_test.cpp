// render_balance writes the balance document directly; it must stay byte-identical to the
// nlohmann tree it replaced on the hot path (replays and clients see one format).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "api/codec.h"
#include "ledger/time_zone.h"

using namespace encore;

TEST_CASE("render_balance is byte-identical to encode(balance).dump()", "[codec]") {
  BalanceView b;
  SECTION("top tier, nothing expiring") {
    b.balance = 0;
    b.tier = "gold";
  }
  SECTION("next tier, expiring dates, negative available, text that needs escaping") {
    b.balance = 1234;
    b.available = -5;
    b.pending = 40;
    b.held = 7;
    b.debt = 12;
    b.qualifying_points = 9007199254740991;
    b.tier = "b\"ase\\ \u00e9\u4e2d\n";
    b.next_tier = NextTier{"sil\"ver", 66};
    b.expiring = {ExpiringPoints{Date{date::year{2026}, date::month{1}, date::day{31}}, 100},
                  ExpiringPoints{Date{date::year{2027}, date::month{12}, date::day{1}}, 3}};
  }
  const auto tree = api::encode(b).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  CHECK(api::render_balance(b) == tree);
  CHECK(nlohmann::json::parse(api::render_balance(b)) == api::encode(b));
}

TEST_CASE("render_balance quotes plain and non-plain tier names as nlohmann does", "[codec]") {
  BalanceView b;
  b.balance = 10;
  b.expiring = {ExpiringPoints{Date{date::year{999}, date::month{3}, date::day{9}}, 1}};
  const std::vector<std::string> names = {"silver",
                                          "Gold Plus",
                                          "caf\u00e9",
                                          "tab\there",
                                          "a/b",
                                          "~^`{}",
                                          std::string("nul\0x", 5),
                                          std::string("\x7f", 1),
                                          std::string("bad\xff utf8", 9)};
  for (const auto& name : names) {
    b.tier = name;
    b.next_tier = NextTier{name, 5};
    INFO(name);
    const auto tree = api::encode(b).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    CHECK(api::render_balance(b) == tree);
  }
}

TEST_CASE("render_purchase is byte-identical to encode(result).dump()", "[codec]") {
  PurchaseResult r;
  r.order_id = "o-1";
  r.member_id = "m\"1";
  r.points_earned = 19;
  r.bonus_points = 0;
  r.tier = "base";
  r.balance.balance = 19;
  r.balance.tier = "base";
  r.balance.next_tier = NextTier{"silver", 981};
  Entry earn;
  earn.id = 41;
  earn.kind = EntryKind::earn;
  earn.points = 19;
  earn.occurred_at = *parse_rfc3339("2026-11-30T10:00:00Z");
  earn.recorded_at = *parse_rfc3339("2026-11-30T10:00:01Z");
  earn.order_id = "o-1";
  earn.actor = "pos:till-1";
  SECTION("one earn entry") {
    r.entries = {earn};
  }
  SECTION("every optional entry field, and none") {
    Entry full = earn;
    full.id = 42;
    full.kind = EntryKind::reverse;
    full.points = -7;
    full.refund_id = "r-\u00e9";
    full.hold_id = "h-1";
    full.promotion_id = "second-visit";
    full.reason = "tab\there";
    full.reward = "coffee";
    full.ref_entry_id = 41;
    full.lots = {LotDraw{3, 5}, LotDraw{4, 2}};
    Entry bare;
    bare.id = 43;
    bare.kind = EntryKind::adjust;
    bare.points = 1;
    bare.actor = "admin:ops";
    r.bonus_points = 50;
    r.entries = {earn, full, bare};
    r.balance.expiring = {
        ExpiringPoints{Date{date::year{2027}, date::month{11}, date::day{30}}, 19}};
    r.balance.next_tier.reset();
  }
  SECTION("no entries") {
    r.entries.clear();
  }
  const auto tree = api::encode(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  CHECK(api::render_purchase(r) == tree);
}
