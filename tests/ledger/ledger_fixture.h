// A ledger on a temp database with a manual clock, for unit tests.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "ledger/ledger.h"
#include "ledger/time_zone.h"

namespace encore::test {

inline std::string temp_db_path(const std::string& stem) {
  static int counter = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("encore-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
  std::filesystem::create_directories(dir);
  return (dir / (stem + ".db")).string();
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

struct LedgerFixture {
  explicit LedgerFixture(Program program = make_program(),
                         std::string start = "2026-01-10T12:00:00Z")
      : clock(*parse_rfc3339(start)),
        path(temp_db_path("ledger")),
        ledger(Ledger::open(path, std::move(program), clock)) {}
  ~LedgerFixture() { std::filesystem::remove_all(std::filesystem::path(path).parent_path()); }

  Actor actor{"test-pos"};
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
  BalanceView balance(const std::string& member) { return ledger->balance(member).value(); }
};

}  // namespace encore::test
