// The SQLite ReportStore, sharing its connection with the owning SqliteStore. Statements are
// prepared per call: reports are rare and long, so caching them would only hold memory.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>

#include "ledger/report_store.h"

namespace encore {

class SqliteReportStore final : public ReportStore {
 public:
  explicit SqliteReportStore(SQLite::Database& db) : db_(db) {}

  void scan_member_states(const std::function<void(const MemberState&)>& visit,
                          const KeepGoing& keep_going) override;
  void scan_orders_by_member(
      const std::function<void(const std::string&, const std::vector<ReportOrder>&)>& visit,
      const KeepGoing& keep_going) override;
  EntryTotals entry_totals(const KeepGoing& keep_going) override;

 private:
  void merge_member_states(const std::function<void(const MemberState&)>& visit);
  void group_orders_by_member(
      const std::function<void(const std::string&, const std::vector<ReportOrder>&)>& visit);

  SQLite::Database& db_;
};

}  // namespace encore
