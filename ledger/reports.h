// The reports of SPEC 8 (docs/reports.md): points liability, the repeat-purchase rate and RFM
// segments. Each reads one snapshot through Store::reports() (the caller holds the read
// transaction) and counts points with the balance route's rules, so the sums here equal the sums
// of what members see. Rates are basis points (1/100 of a percent), floored: no floats.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ledger/program.h"
#include "ledger/report_store.h"
#include "ledger/store.h"
#include "ledger/types.h"

namespace encore {

inline constexpr int default_report_months = 12;
inline constexpr int max_report_months = 120;

// KeepGoing (report_store.h) is also asked every `report_check_members` members scanned.
inline constexpr std::int64_t report_check_members = 4096;

// --- liability

struct MonthPoints {
  std::string month;  // YYYY-MM in the program's time zone
  Points points = 0;
};

struct LiabilityReport {
  TimePoint as_of{};
  std::int64_t members = 0;
  // Sums over members of the balance route's figures as of `as_of`.
  Points balance = 0;    // after expiry; negative for members in debt
  Points available = 0;  // members with a negative available count 0
  Points pending = 0;
  Points held = 0;
  Points debt = 0;
  // What the program still owes: the sum of the positive balances (one member's debt does not
  // lower what another can spend).
  Points outstanding = 0;
  // Open lots by the month their points expire in, from as_of's month on; `months` entries.
  std::vector<MonthPoints> expiring;
  Points expiring_later = 0;  // after the last month listed
  Points no_expiry = 0;       // lots without an expiry date (policy none)
  // History: breakage = expired / (earned + adjusted_in - reversed).
  Points earned = 0;            // earn and bonus entries
  Points adjusted_in = 0;       // positive adjust entries (corrections, imported balances)
  Points reversed = 0;          // reverse entries (refunds, corrections of earn and bonus)
  Points expired_posted = 0;    // expire entries
  Points expired_unposted = 0;  // lots past expiry the expiry run has not posted yet
  std::optional<std::int64_t> breakage_bp;  // nullopt while nothing was earned
};

// `months` in [1, max_report_months].
LiabilityReport liability_report(Store& store, const Program& program, TimePoint now, int months,
                                 const KeepGoing& keep_going = {});
nlohmann::json liability_report_json(const LiabilityReport& report, const Program& program);

// --- repeat purchase

// A purchase counts unless it was refunded in full (refunded_minor == amount_minor).
struct RepeatPurchaseFigures {
  std::int64_t purchasers = 0;          // members with at least one purchase
  std::int64_t repeat_purchasers = 0;   // ... with at least two
  std::optional<std::int64_t> rate_bp;  // repeat_purchasers / purchasers; nullopt: no purchaser
  // Median time from the first purchase to the second (occurred_at), floored to whole days.
  std::optional<std::int64_t> median_days_to_second;
};

struct RepeatPurchaseCohort {
  std::string month;  // YYYY-MM of the first purchase, program time zone
  RepeatPurchaseFigures figures;
};

struct RepeatPurchaseReport {
  TimePoint as_of{};
  RepeatPurchaseFigures total;
  std::vector<RepeatPurchaseCohort> cohorts;  // by month, oldest first
};

RepeatPurchaseReport repeat_purchase_report(Store& store, const Program& program, TimePoint now,
                                            const KeepGoing& keep_going = {});
nlohmann::json repeat_purchase_report_json(const RepeatPurchaseReport& report,
                                           const Program& program);

// --- RFM

// Scores 1-5 from a member's rank among purchasers (mid-rank, so equal values score alike):
// recency (days since the last purchase, fewer is better) and frequency (purchases), the
// frequency score capped at the purchase count (a one-time buyer is F 1 however common). Segments
// from recency R and frequency F, first match wins:
//   champions R>=4 F>=4 | loyal R>=3 F>=3 | new R>=4 F<=2 | at_risk R<=2 F>=3 |
//   hibernating R<=2 F<=2 | needs_attention (R=3, F<=2).
enum class RfmSegment { champions, loyal, new_customers, at_risk, hibernating, needs_attention };
inline constexpr int rfm_segment_count = 6;
std::string_view rfm_segment_name(RfmSegment segment);
RfmSegment rfm_segment(int recency_score, int frequency_score);
// The 1-5 score of a value with `below` values strictly worse and `equal` values equal (itself
// included) among `count`.
int rfm_score(std::int64_t below, std::int64_t equal, std::int64_t count);

struct RfmSegmentFigures {
  RfmSegment segment = RfmSegment::champions;
  std::int64_t members = 0;
  std::int64_t monetary_minor = 0;  // their purchases, net of refunds
  std::int64_t purchases = 0;
};

struct RfmReport {
  TimePoint as_of{};
  std::int64_t members = 0;                 // enrolled
  std::int64_t purchasers = 0;              // with at least one purchase (others are in no segment)
  std::vector<RfmSegmentFigures> segments;  // every segment, in enum order
  // Members per (R, F) score pair: grid[r - 1][f - 1].
  std::array<std::array<std::int64_t, 5>, 5> grid{};
};

RfmReport rfm_report(Store& store, TimePoint now, const KeepGoing& keep_going = {});
nlohmann::json rfm_report_json(const RfmReport& report, const Program& program);

}  // namespace encore
