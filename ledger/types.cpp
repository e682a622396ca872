#include "ledger/types.h"

namespace encore {

std::string_view to_string(EntryKind kind) {
  switch (kind) {
    case EntryKind::earn:
      return "earn";
    case EntryKind::bonus:
      return "bonus";
    case EntryKind::redeem:
      return "redeem";
    case EntryKind::reverse:
      return "reverse";
    case EntryKind::restore:
      return "restore";
    case EntryKind::expire:
      return "expire";
    case EntryKind::adjust:
      return "adjust";
  }
  return "earn";
}

std::optional<EntryKind> entry_kind_from(std::string_view text) {
  for (auto k : {EntryKind::earn, EntryKind::bonus, EntryKind::redeem, EntryKind::reverse,
                 EntryKind::restore, EntryKind::expire, EntryKind::adjust}) {
    if (to_string(k) == text) return k;
  }
  return std::nullopt;
}

std::string_view to_string(HoldState state) {
  switch (state) {
    case HoldState::open:
      return "open";
    case HoldState::captured:
      return "captured";
    case HoldState::released:
      return "released";
    case HoldState::expired:
      return "expired";
  }
  return "open";
}

namespace {
bool id_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}
bool valid_id(std::string_view id, std::size_t max_length) {
  if (id.empty() || id.size() > max_length) return false;
  for (char c : id) {
    if (!id_char(c)) return false;
  }
  return true;
}
}  // namespace

bool valid_member_id(std::string_view id) {
  return valid_id(id, max_member_id_length);
}
bool valid_order_id(std::string_view id) {
  return valid_id(id, max_order_id_length);
}

}  // namespace encore
