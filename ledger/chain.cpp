#include "ledger/chain.h"

#include <charconv>

namespace encore {
namespace {

void put_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
  out.push_back('|');
}

void put_text(std::string& out, std::string_view s) {
  put_int(out, static_cast<std::int64_t>(s.size()));
  out.append(s);
  out.push_back('|');
}

void put_opt(std::string& out, const std::optional<std::string>& s) {
  if (s) {
    put_text(out, *s);
  } else {
    out.append("-|");
  }
}

}  // namespace

void append_canonical(std::string& out, const Entry& e) {
  out.append("encore.entry.v1|");
  put_int(out, e.id);
  put_text(out, e.member_id);
  put_text(out, to_string(e.kind));
  put_int(out, e.points);
  put_int(out, e.occurred_at.time_since_epoch().count());
  put_int(out, e.recorded_at.time_since_epoch().count());
  put_opt(out, e.order_id);
  put_opt(out, e.refund_id);
  put_opt(out, e.hold_id);
  put_opt(out, e.promotion_id);
  put_opt(out, e.reason);
  put_opt(out, e.reward);
  if (e.ref_entry_id) {
    put_int(out, *e.ref_entry_id);
  } else {
    out.append("-|");
  }
  put_text(out, e.actor);
  put_int(out, static_cast<std::int64_t>(e.lots.size()));
  for (const auto& d : e.lots) {
    put_int(out, d.lot_id);
    put_int(out, d.points);
  }
}

Sha256 chain_hash(const Sha256& previous, const Entry& e) {
  thread_local std::string buffer;
  buffer.clear();
  append_canonical(buffer, e);
  return sha256(std::string_view(reinterpret_cast<const char*>(previous.data()), previous.size()),
                buffer);
}

}  // namespace encore
