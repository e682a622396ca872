// Internal to ledger/: the mechanics shared by every write operation — loading a member,
// bringing it up to date (expiry, stale holds, tier), posting hash-chained entries, and drawing
// points from lots. Rules per operation live in writer_*.cpp.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ledger/member_cache.h"
#include "ledger/member_state.h"
#include "ledger/program.h"
#include "ledger/result.h"
#include "ledger/store.h"

namespace encore {

// What the writer knows about members during one batch, for MemberCache (ledger/member_cache.h).
struct BatchMembers {
  MemberCache* cache = nullptr;  // null: no cache, every load reads the store
  // Each member's state after the last successful operation that loaded it in this batch.
  std::unordered_map<std::string, MemberState> staged;
  // Members changed in this batch whose state is not staged (bulk upkeep): never read from the
  // cache again in this batch, and dropped from it after the commit.
  std::unordered_set<std::string> dropped;
  // Set when staging failed after an operation's savepoint was released (out of memory): the
  // batch's changes commit but are not all known, so the cache is emptied after the commit.
  bool incomplete = false;
  void clear() {
    staged.clear();
    dropped.clear();
    incomplete = false;
  }
};

// A member state owned by the Posting, so that the writer can stage it once the operation
// succeeded. Reads like a MemberState (`state->row`, `*state`).
class StateRef {
 public:
  explicit StateRef(MemberState& state)
      : state_(&state), row(state.row), lots(state.lots), holds(state.holds) {}
  operator MemberState&() const { return *state_; }  // NOLINT: reads as the state it refers to

 private:
  MemberState* state_;

 public:
  MemberRow& row;
  std::vector<LotRow>& lots;
  std::vector<HoldView>& holds;
};

class Posting {
 public:
  // `now` is business time (rules, lots, occurred_at); `recorded_at` is server time, written to
  // every entry's recorded_at (Clock::recorded_now).
  Posting(Store& store, const Program& program, TimePoint now, TimePoint recorded_at,
          std::int64_t& last_id, Sha256& last_hash, BatchMembers* batch = nullptr)
      : store_(store),
        program_(program),
        now_(now),
        recorded_at_(recorded_at),
        last_id_(last_id),
        last_hash_(last_hash),
        batch_(batch) {}

  Store& store() { return store_; }
  const Program& program() const { return program_; }
  TimePoint now() const { return now_; }

  // The member brought up to date as of now: stale holds closed, expired lots posted as
  // `expire` entries, due tier changes recorded. not_found when unknown.
  // The state is owned by this Posting (one per member) and staged when the operation succeeds.
  Result<StateRef> load(const std::string& member_id, const std::string& field);
  // A new member's state (enrol), owned and staged like a loaded one.
  MemberState& adopt(MemberState state);
  // For bulk upkeep: a copy read from the store, not owned; the member is dropped from the
  // cache after the commit instead of staged.
  std::optional<MemberState> load_unstaged(const std::string& member_id);
  // Moves the owned states into the batch (call only when the operation succeeded).
  void stage(BatchMembers& batch);

  // Orders go through these so the state's qualifying orders stay exact.
  void insert_order(MemberState& state, const OrderRow& row);
  void update_order(MemberState& state, const OrderRow& row);
  void refresh(MemberState& state, TimePoint as_of);
  void refresh_tier(MemberState& state, TimePoint as_of);

  // Assigns id, recorded_at and hash; inserts; applies the points to the running balance.
  const Entry& post(MemberState& state, Entry entry);

  // Takes up to `points` from lots in the given order; returns the draws.
  std::vector<LotDraw> draw(MemberState& state, Points points, const std::vector<LotRow*>& order);
  // Spendable lots, soonest-expiring first then by id (SPEC 3).
  std::vector<LotRow*> spendable_fifo(MemberState& state);
  std::vector<LotRow*> pending_fifo(MemberState& state);
  // Credits a new lot (debt is settled first from it). Returns the lot id. The lot expires by the
  // program's policy unless `expires_at` is given (an imported opening balance keeps its own).
  std::int64_t credit_new_lot(MemberState& state, std::int64_t entry_id, Points points,
                              TimePoint earned_at, TimePoint vests_at,
                              std::optional<TimePoint> expires_at = std::nullopt);
  // Puts points back into an existing lot (restore), settling debt first.
  void credit_existing_lot(MemberState& state, std::int64_t lot_id, Points points);

  // Writes the member row. For a state this Posting owns the write is deferred to flush() (an
  // operation saves the same row several times; only the last one matters).
  void save(const MemberState& state);
  // Writes the deferred rows; the operation's last step before its savepoint is released.
  void flush();
  BalanceView balance(const MemberState& state) {
    return balance_view(store_, state, program_, now_);
  }

  std::vector<Entry>& posted() { return posted_; }

 private:
  void expire_lots(MemberState& state, TimePoint as_of);
  void close_stale_holds(MemberState& state, TimePoint as_of);

  Store& store_;
  const Program& program_;
  TimePoint now_;
  TimePoint recorded_at_;
  std::int64_t& last_id_;
  Sha256& last_hash_;
  std::vector<Entry> posted_;
  BatchMembers* batch_;
  std::deque<MemberState> owned_;  // stable addresses for StateRef
  std::unordered_set<std::string> unstaged_;
  std::vector<const MemberState*> unsaved_;
};

// A fresh entry for `member_id`; id, recorded_at and hash are set by Posting::post.
Entry new_entry(const std::string& member_id, EntryKind kind, TimePoint occurred_at,
                Points points = 0);

// Checked addition for points (SPEC: additions that can overflow are checked).
Points checked_add(Points a, Points b);

}  // namespace encore
