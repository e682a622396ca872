// Row readers shared by the SQLite stores (sqlite_store.cpp, sqlite_report_store.cpp): the column
// lists and the functions that read a row selected with them. Internal to ledger/.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include "ledger/store.h"
#include "ledger/types.h"

namespace encore::sqlite_rows {

inline constexpr const char* kMemberColumns =
    "member_id, email, phone, locale, marketing_opt_in, enrolled_at, erased_at, balance, debt, "
    "tier, tier_reached_at, first_purchase_at, last_purchase_at, purchase_count, "
    "last_activity_at";
inline constexpr const char* kLotColumns =
    "id, member_id, entry_id, original, remaining, earned_at, vests_at, expires_at, "
    "program_version";
inline constexpr const char* kHoldColumns =
    "hold_id, member_id, points, order_id, state, created_at, expires_at, captured_points";

MemberRow read_member(SQLite::Statement& s);  // selected with kMemberColumns
LotRow read_lot(SQLite::Statement& s);        // selected with kLotColumns
HoldView read_hold(SQLite::Statement& s);     // selected with kHoldColumns

}  // namespace encore::sqlite_rows
