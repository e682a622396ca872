#include "ledger/sqlite_rows.h"

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>

namespace encore::sqlite_rows {
namespace {

TimePoint from_secs(std::int64_t s) {
  return TimePoint{std::chrono::seconds{s}};
}
std::optional<std::string> opt_text(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getString();
}
std::optional<TimePoint> opt_time(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return from_secs(c.getInt64());
}

HoldState hold_state_from(const std::string& s) {
  if (s == "open") return HoldState::open;
  if (s == "captured") return HoldState::captured;
  if (s == "released") return HoldState::released;
  if (s == "expired") return HoldState::expired;
  throw std::runtime_error("holds.state holds an unknown state");
}

}  // namespace

MemberRow read_member(SQLite::Statement& s) {
  MemberRow r;
  r.member_id = s.getColumn(0).getString();
  r.email = opt_text(s.getColumn(1));
  r.phone = opt_text(s.getColumn(2));
  r.locale = opt_text(s.getColumn(3));
  r.marketing_opt_in = s.getColumn(4).getInt() != 0;
  r.enrolled_at = from_secs(s.getColumn(5).getInt64());
  r.erased_at = opt_time(s.getColumn(6));
  r.balance = s.getColumn(7).getInt64();
  r.debt = s.getColumn(8).getInt64();
  r.tier = s.getColumn(9).getString();
  r.tier_reached_at = from_secs(s.getColumn(10).getInt64());
  r.first_purchase_at = opt_time(s.getColumn(11));
  r.last_purchase_at = opt_time(s.getColumn(12));
  r.purchase_count = s.getColumn(13).getInt64();
  r.last_activity_at = opt_time(s.getColumn(14));
  return r;
}

LotRow read_lot(SQLite::Statement& s) {
  LotRow r;
  r.id = s.getColumn(0).getInt64();
  r.member_id = s.getColumn(1).getString();
  r.entry_id = s.getColumn(2).getInt64();
  r.original = s.getColumn(3).getInt64();
  r.remaining = s.getColumn(4).getInt64();
  r.earned_at = from_secs(s.getColumn(5).getInt64());
  r.vests_at = from_secs(s.getColumn(6).getInt64());
  r.expires_at = opt_time(s.getColumn(7));
  r.program_version = s.getColumn(8).getString();
  return r;
}

HoldView read_hold(SQLite::Statement& s) {
  HoldView h;
  h.hold_id = s.getColumn(0).getString();
  h.member_id = s.getColumn(1).getString();
  h.points = s.getColumn(2).getInt64();
  h.order_id = opt_text(s.getColumn(3));
  h.state = hold_state_from(s.getColumn(4).getString());
  h.created_at = from_secs(s.getColumn(5).getInt64());
  h.expires_at = from_secs(s.getColumn(6).getInt64());
  h.captured_points = s.getColumn(7).getInt64();
  return h;
}

}  // namespace encore::sqlite_rows
