// A ledger on a temp database with a manual clock, for unit tests.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "ledger/time_zone.h"

namespace encore::test {

inline std::string temp_db_path(const std::string& stem) {
  static int counter = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("encore-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
  // A test process that aborted (a failed self-check) left its directory behind, and pids are
  // reused: start from an empty one (no live process has this pid).
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return (dir / (stem + ".db")).string();
}

inline TimePoint at(const std::string& rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  if (!t) throw std::runtime_error("bad test time " + rfc3339);
  return *t;
}

inline Program make_program(const nlohmann::json& overrides = nlohmann::json::object()) {
  nlohmann::json doc = {{"currency", "EUR"},
                        {"timezone", "UTC"},
                        {"earn", {{"points_per_unit", 1}, {"unit_minor", 100}}}};
  doc.merge_patch(overrides);
  auto program = Program::parse(doc);
  if (!program) throw std::runtime_error("test program invalid: " + program.error().field);
  return std::move(program).value();
}

// Two nth-purchase promotions that both fire on a member's 2nd purchase: two bonus entries on one
// order, 200 and 50 points.
inline nlohmann::json two_second_purchase_bonuses() {
  nlohmann::json bonus_a = {{"id", "second-visit"},
                            {"kind", "nth_purchase_bonus"},
                            {"n", 2},
                            {"within_days", 30},
                            {"bonus_points", 200}};
  nlohmann::json bonus_b = bonus_a;
  bonus_b["id"] = "second-visit-extra";
  bonus_b["bonus_points"] = 50;
  return {{"promotions", {bonus_a, bonus_b}}};
}

struct LedgerFixture {
  explicit LedgerFixture(Program program = make_program(),
                         std::string start = "2026-01-10T12:00:00Z",
                         std::size_t cache_members = 1 << 16)
      : clock(*parse_rfc3339(start)),
        path(temp_db_path("ledger")),
        ledger(Ledger::open(path, std::move(program), clock)) {
    // Every unit test runs with the member cache as the server does, and self-checked: each
    // state it publishes is compared with the database (a difference aborts the test binary).
    // The model test also runs sequences without it and with a tiny one (constant evictions).
    if (cache_members > 0) ledger->enable_member_cache(cache_members, true);
  }
  ~LedgerFixture() { std::filesystem::remove_all(std::filesystem::path(path).parent_path()); }

  Actor actor{"test-pos"};
  Actor admin{"admin:test"};
  ManualClock clock;
  std::string path;
  std::unique_ptr<Ledger> ledger;

  void enrol(const std::string& id) {
    auto r = ledger->write([&](Writer& w) { return w.enrol(EnrolRequest{id}, actor); });
    if (!r) throw std::runtime_error("enrol failed: " + r.error().detail);
  }
  Result<PurchaseResult> buy(const std::string& member, const std::string& order,
                             std::int64_t amount_minor) {
    PurchaseRequest req{member, order, amount_minor, "EUR"};
    return ledger->write([&](Writer& w) { return w.purchase(req, actor); });
  }
  // Enrols `member` and posts "o1" (10 points), then "o2" (20 points; as the member's 2nd
  // purchase it triggers two_second_purchase_bonuses(): +200 and +50 in two bonus entries).
  std::pair<PurchaseResult, PurchaseResult> first_and_second_purchase(const std::string& member) {
    enrol(member);
    auto first = buy(member, "o1", 1000);
    auto second = buy(member, "o2", 2000);
    if (!first || !second) throw std::runtime_error("purchase failed");
    return {std::move(first).value(), std::move(second).value()};
  }
  Result<RefundResult> refund(const std::string& order, const std::string& refund_id,
                              std::int64_t amount_minor) {
    return ledger->write([&](Writer& w) {
      return w.refund(RefundRequest{order, refund_id, amount_minor}, actor);
    });
  }
  Result<PostingResult> redeem(const std::string& member, Points points) {
    RedemptionRequest req{member, points};
    return ledger->write([&](Writer& w) { return w.redeem(req, actor); });
  }
  Result<PurchaseResult> buy_at(const std::string& member, const std::string& order,
                                std::int64_t amount_minor, TimePoint occurred_at) {
    PurchaseRequest req{member, order, amount_minor, "EUR", occurred_at};
    return ledger->write([&](Writer& w) { return w.purchase(req, actor); });
  }
  Result<PostingResult> hold(const std::string& member, Points points,
                             std::optional<std::int64_t> ttl_seconds = std::nullopt) {
    HoldRequest req{member, points, std::nullopt, ttl_seconds};
    return ledger->write([&](Writer& w) { return w.create_hold(req, actor); });
  }
  Result<PostingResult> capture(const std::string& hold_id,
                                std::optional<Points> points = std::nullopt) {
    return ledger->write([&](Writer& w) { return w.capture_hold(hold_id, points, actor); });
  }
  Result<PostingResult> release(const std::string& hold_id) {
    return ledger->write([&](Writer& w) { return w.release_hold(hold_id, actor); });
  }
  Result<PostingResult> adjust(const std::string& member, Points points,
                               const std::string& reason) {
    AdjustRequest req{member, points, reason};
    return ledger->write([&](Writer& w) { return w.adjust(req, admin); });
  }
  Result<PostingResult> reverse(std::int64_t entry_id, const std::string& reason) {
    return ledger->write([&](Writer& w) { return w.reverse_entry(entry_id, reason, admin); });
  }
  Result<ExpiryRunResult> run_expiry(TimePoint as_of, bool dry_run = false) {
    return ledger->write([&](Writer& w) { return w.run_expiry(as_of, dry_run, admin); });
  }
  // The member's entries, newest first.
  std::vector<Entry> entries(const std::string& member) {
    return ledger->entries(member, std::nullopt, max_entries_page).value().entries;
  }
  BalanceView balance(const std::string& member) { return ledger->balance(member).value(); }
};

}  // namespace encore::test
