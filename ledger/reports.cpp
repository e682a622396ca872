#include "ledger/reports.h"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <limits>
#include <map>
#include <stdexcept>

#include "ledger/member_state.h"
#include "ledger/report_store.h"
#include "ledger/time_zone.h"

namespace encore {
namespace {

// 128-bit intermediates (GCC extension; -Wpedantic needs the marker).
__extension__ using Int128 = __int128;

using nlohmann::json;
constexpr std::int64_t seconds_per_day = 86'400;

// Months since year 0 (only differences are used).
int month_index(Date d) {
  return static_cast<int>(d.year()) * 12 + static_cast<int>(static_cast<unsigned>(d.month())) - 1;
}

std::string format_month(int index) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02d", index / 12, index % 12 + 1);
  return text;
}

std::string month_of(TimePoint t, const date::time_zone* zone) {
  return format_month(month_index(local_date(t, zone)));
}

// floor(part * 10000 / whole) for whole > 0, in 128 bits (part * 10000 overflows near 2^50).
std::int64_t basis_points(std::int64_t part, std::int64_t whole) {
  assert(whole > 0 && part >= 0);
  return static_cast<std::int64_t>(static_cast<Int128>(part) * 10'000 / whole);
}

// Points at the program's point value, in minor units. An integer when it fits in 64 bits, else
// the exact decimal as a string (a program valuing points at 10^9 minor units can get there).
json money(Points points, const Program& program) {
  const Int128 value = static_cast<Int128>(points) * program.point_value_minor;
  if (value >= std::numeric_limits<std::int64_t>::min() &&
      value <= std::numeric_limits<std::int64_t>::max()) {
    return static_cast<std::int64_t>(value);
  }
  Int128 magnitude = value < 0 ? -value : value;
  std::string digits;
  while (magnitude > 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  }
  return (value < 0 ? "-" : "") + digits;
}

json points_and_value(Points points, const Program& program) {
  return {{"points", points}, {"value_minor", money(points, program)}};
}

json optional_int(const std::optional<std::int64_t>& v) {
  return v ? json(*v) : json();
}

// Median of whole seconds, floored to days; the lower of the two middles' mean when even.
std::optional<std::int64_t> median_days(std::vector<std::int64_t>& seconds) {
  if (seconds.empty()) return std::nullopt;
  std::sort(seconds.begin(), seconds.end());
  const std::size_t n = seconds.size();
  const std::int64_t median =
      n % 2 == 1 ? seconds[n / 2] : seconds[n / 2 - 1] + (seconds[n / 2] - seconds[n / 2 - 1]) / 2;
  return median / seconds_per_day;
}

// Counts scanned members and asks `keep_going` every report_check_members of them.
class StopCheck {
 public:
  explicit StopCheck(const KeepGoing& keep_going) : keep_going_(keep_going) {}
  void tick() {
    if (++count_ % report_check_members == 0 && keep_going_ && !keep_going_()) {
      throw ReportStopped();
    }
  }

 private:
  const KeepGoing& keep_going_;
  std::int64_t count_ = 0;
};

// sum += v, refusing to wrap: a report never shows a silently wrong total.
void add(std::int64_t& sum, std::int64_t v) {
  if (__builtin_add_overflow(sum, v, &sum)) {
    throw std::overflow_error("a report total does not fit in 64 bits");
  }
}

bool counts_as_purchase(const ReportOrder& order) {
  return order.refunded_minor < order.amount_minor;
}

}  // namespace

// --- liability

LiabilityReport liability_report(Store& store, const Program& program, TimePoint now, int months,
                                 const KeepGoing& keep_going) {
  if (months < 1 || months > max_report_months) {
    throw std::invalid_argument("months must be in [1, max_report_months]");
  }
  LiabilityReport r;
  r.as_of = now;
  const int first_month = month_index(local_date(now, program.zone));
  r.expiring.resize(static_cast<std::size_t>(months));
  for (int i = 0; i < months; ++i)
    r.expiring[static_cast<std::size_t>(i)].month = format_month(first_month + i);

  StopCheck check(keep_going);
  store.reports().scan_member_states(
      [&](const MemberState& state) {
        check.tick();
        ++r.members;
        const Totals t = compute_totals(state, program, now);
        const Points balance = state.row.balance - t.expired;  // as the balance route shows it
        add(r.balance, balance);
        add(r.available, std::max<Points>(0, available(t, state.row.debt)));
        add(r.pending, t.pending);
        add(r.held, t.held);
        add(r.debt, state.row.debt);
        add(r.outstanding, std::max<Points>(0, balance));
        add(r.expired_unposted, t.expired);
        for (const auto& lot : state.lots) {
          const auto expiry = lot_expiry(lot, state.row, program);
          if (!expiry) {
            add(r.no_expiry, lot.remaining);
            continue;
          }
          if (*expiry <= now) continue;  // counted in expired_unposted
          // Points expire at the end of the local day before the instant `expiry` (as the balance
          // route's `expiring` dates).
          const int month =
              month_index(local_date(*expiry - std::chrono::seconds{1}, program.zone)) -
              first_month;
          if (month < months) {
            add(r.expiring[static_cast<std::size_t>(month)].points, lot.remaining);
          } else {
            add(r.expiring_later, lot.remaining);
          }
        }
      },
      keep_going);

  const EntryTotals totals = store.reports().entry_totals(keep_going);
  r.earned = totals.earned;
  r.adjusted_in = totals.adjusted_in;
  r.reversed = totals.reversed;
  r.expired_posted = totals.expired;
  // Points issued net of take-backs: positive adjustments issue points too (an imported legacy
  // balance is one); negative adjustments count as points used, like redemptions.
  Points issued = r.earned;
  add(issued, r.adjusted_in);
  add(issued, -r.reversed);
  Points expired = r.expired_posted;
  add(expired, r.expired_unposted);
  if (issued > 0) r.breakage_bp = basis_points(std::max<Points>(0, expired), issued);
  return r;
}

json liability_report_json(const LiabilityReport& r, const Program& program) {
  auto expiring = json::array();
  for (const auto& m : r.expiring) {
    expiring.push_back(
        {{"month", m.month}, {"points", m.points}, {"value_minor", money(m.points, program)}});
  }
  return {
      {"as_of", format_rfc3339(r.as_of)},
      {"timezone", program.timezone},
      {"currency", program.currency},
      {"point_value_minor", program.point_value_minor},
      {"members", r.members},
      {"outstanding", points_and_value(r.outstanding, program)},
      {"balance", points_and_value(r.balance, program)},
      {"available", points_and_value(r.available, program)},
      {"pending", points_and_value(r.pending, program)},
      {"held", points_and_value(r.held, program)},
      {"debt", points_and_value(r.debt, program)},
      {"expiring", expiring},
      {"expiring_later", points_and_value(r.expiring_later, program)},
      {"no_expiry", points_and_value(r.no_expiry, program)},
      {"history",
       {{"earned_points", r.earned},
        {"adjusted_in_points", r.adjusted_in},
        {"reversed_points", r.reversed},
        {"expired_points", r.expired_posted + r.expired_unposted},
        {"expired_unposted_points", r.expired_unposted},
        {"expired_value_minor", money(r.expired_posted + r.expired_unposted, program)},
        {"breakage_bp", optional_int(r.breakage_bp)}}},
  };
}

// --- repeat purchase

RepeatPurchaseReport repeat_purchase_report(Store& store, const Program& program, TimePoint now,
                                            const KeepGoing& keep_going) {
  struct Cohort {
    RepeatPurchaseFigures figures;
    std::vector<std::int64_t> seconds_to_second;
  };
  std::map<std::string, Cohort> cohorts;  // YYYY-MM sorts as text
  std::vector<std::int64_t> all_seconds;
  RepeatPurchaseReport r;
  r.as_of = now;
  StopCheck check(keep_going);
  store.reports().scan_orders_by_member(
      [&](const std::string&, const std::vector<ReportOrder>& orders) {
        check.tick();
        const ReportOrder* first = nullptr;
        const ReportOrder* second = nullptr;
        for (const auto& o : orders) {  // by occurred_at
          if (!counts_as_purchase(o)) continue;
          if (first == nullptr) {
            first = &o;
          } else {
            second = &o;
            break;
          }
        }
        if (first == nullptr) return;
        Cohort& c = cohorts[month_of(first->occurred_at, program.zone)];
        ++c.figures.purchasers;
        ++r.total.purchasers;
        if (second == nullptr) return;
        ++c.figures.repeat_purchasers;
        ++r.total.repeat_purchasers;
        const std::int64_t seconds = (second->occurred_at - first->occurred_at).count();
        assert(seconds >= 0 && "orders come by occurred_at");
        c.seconds_to_second.push_back(seconds);
        all_seconds.push_back(seconds);
      },
      keep_going);
  const auto finish = [](RepeatPurchaseFigures& f, std::vector<std::int64_t>& seconds) {
    if (f.purchasers > 0) f.rate_bp = basis_points(f.repeat_purchasers, f.purchasers);
    f.median_days_to_second = median_days(seconds);
  };
  finish(r.total, all_seconds);
  for (auto& [month, c] : cohorts) {
    finish(c.figures, c.seconds_to_second);
    r.cohorts.push_back(RepeatPurchaseCohort{month, c.figures});
  }
  return r;
}

namespace {

json figures_json(const RepeatPurchaseFigures& f) {
  return {{"purchasers", f.purchasers},
          {"repeat_purchasers", f.repeat_purchasers},
          {"second_purchase_rate_bp", optional_int(f.rate_bp)},
          {"median_days_to_second", optional_int(f.median_days_to_second)}};
}

}  // namespace

json repeat_purchase_report_json(const RepeatPurchaseReport& r, const Program& program) {
  auto body = figures_json(r.total);
  body["as_of"] = format_rfc3339(r.as_of);
  body["timezone"] = program.timezone;
  auto cohorts = json::array();
  for (const auto& c : r.cohorts) {
    auto item = figures_json(c.figures);
    item["cohort"] = c.month;
    cohorts.push_back(std::move(item));
  }
  body["cohorts"] = std::move(cohorts);
  return body;
}

// --- RFM

std::string_view rfm_segment_name(RfmSegment segment) {
  switch (segment) {
    case RfmSegment::champions:
      return "champions";
    case RfmSegment::loyal:
      return "loyal";
    case RfmSegment::new_customers:
      return "new";
    case RfmSegment::at_risk:
      return "at_risk";
    case RfmSegment::hibernating:
      return "hibernating";
    case RfmSegment::needs_attention:
      return "needs_attention";
  }
  return "unknown";
}

RfmSegment rfm_segment(int r, int f) {
  assert(r >= 1 && r <= 5 && f >= 1 && f <= 5);
  if (r >= 4 && f >= 4) return RfmSegment::champions;
  if (r >= 3 && f >= 3) return RfmSegment::loyal;
  if (r >= 4) return RfmSegment::new_customers;
  if (r <= 2 && f >= 3) return RfmSegment::at_risk;
  if (r <= 2) return RfmSegment::hibernating;
  return RfmSegment::needs_attention;
}

int rfm_score(std::int64_t below, std::int64_t equal, std::int64_t count) {
  assert(count > 0 && equal >= 1 && below >= 0 && below + equal <= count);
  // 1 + floor(5 * mid-rank / count), mid-rank = below + equal / 2; at most 5 * (2n - 1) / 2n < 5.
  const auto score =
      1 + static_cast<int>(static_cast<Int128>(5) * (2 * below + equal) / (2 * count));
  assert(score >= 1 && score <= 5);
  return score;
}

RfmReport rfm_report(Store& store, TimePoint now, const KeepGoing& keep_going) {
  struct Customer {
    std::int64_t recency_days = 0;
    std::int64_t frequency = 0;
    std::int64_t monetary_minor = 0;
  };
  // One entry per purchaser: the report's memory grows with them (about 24 bytes each).
  std::vector<Customer> customers;
  StopCheck check(keep_going);
  store.reports().scan_orders_by_member(
      [&](const std::string&, const std::vector<ReportOrder>& orders) {
        check.tick();
        Customer c;
        std::optional<TimePoint> last;
        for (const auto& o : orders) {
          if (!counts_as_purchase(o)) continue;
          ++c.frequency;
          add(c.monetary_minor, o.amount_minor - o.refunded_minor);
          last = o.occurred_at;  // orders come by occurred_at
        }
        if (c.frequency == 0) return;
        c.recency_days = std::max<std::int64_t>(0, (now - *last).count() / seconds_per_day);
        customers.push_back(c);
      },
      keep_going);
  RfmReport r;
  r.as_of = now;
  r.members = store.ledger_totals().members;
  r.purchasers = static_cast<std::int64_t>(customers.size());
  for (int i = 0; i < rfm_segment_count; ++i) {
    r.segments.push_back(RfmSegmentFigures{static_cast<RfmSegment>(i)});
  }
  if (customers.empty()) return r;

  std::vector<std::int64_t> recency, frequency;
  recency.reserve(customers.size());
  frequency.reserve(customers.size());
  for (const auto& c : customers) {
    recency.push_back(c.recency_days);
    frequency.push_back(c.frequency);
  }
  std::sort(recency.begin(), recency.end());
  std::sort(frequency.begin(), frequency.end());
  const std::int64_t n = r.purchasers;
  for (const auto& c : customers) {
    // Recency: fewer days is better, so "worse" is the members with more days.
    auto [rlo, rhi] = std::equal_range(recency.begin(), recency.end(), c.recency_days);
    const int rs = rfm_score(recency.end() - rhi, rhi - rlo, n);
    auto [flo, fhi] = std::equal_range(frequency.begin(), frequency.end(), c.frequency);
    // Capped at the purchase count: where most members bought once (usual in retail), mid-rank
    // alone would score those one-time buyers 3 and call them loyal (review finding).
    const int fs = static_cast<int>(
        std::min<std::int64_t>(rfm_score(flo - frequency.begin(), fhi - flo, n), c.frequency));
    ++r.grid[static_cast<std::size_t>(rs - 1)][static_cast<std::size_t>(fs - 1)];
    auto& seg = r.segments[static_cast<std::size_t>(rfm_segment(rs, fs))];
    ++seg.members;
    add(seg.monetary_minor, c.monetary_minor);
    seg.purchases += c.frequency;
  }
  return r;
}

json rfm_report_json(const RfmReport& r, const Program& program) {
  auto segments = json::array();
  for (const auto& s : r.segments) {
    segments.push_back(
        {{"segment", rfm_segment_name(s.segment)},
         {"members", s.members},
         {"share_bp", r.purchasers > 0 ? json(basis_points(s.members, r.purchasers)) : json()},
         {"purchases", s.purchases},
         {"monetary_minor", s.monetary_minor}});
  }
  auto grid = json::array();
  for (int rs = 5; rs >= 1; --rs) {
    for (int fs = 5; fs >= 1; --fs) {
      if (r.grid[static_cast<std::size_t>(rs - 1)][static_cast<std::size_t>(fs - 1)] == 0) continue;
      grid.push_back(
          {{"r", rs},
           {"f", fs},
           {"members",
            r.grid[static_cast<std::size_t>(rs - 1)][static_cast<std::size_t>(fs - 1)]}});
    }
  }
  return {{"as_of", format_rfc3339(r.as_of)},
          {"currency", program.currency},
          {"members", r.members},
          {"purchasers", r.purchasers},
          {"no_purchase_members", r.members - r.purchasers},
          {"segments", segments},
          {"grid", grid}};
}

}  // namespace encore
