// Persistence for the ledger. The store is the only code that speaks SQL; rules live in
// posting.cpp. `Store` is an interface so another backend (PostgreSQL) can serve larger
// deployments later; `open_sqlite_store` is the embedded default.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ledger/types.h"

namespace encore {

// An order as far as tier qualification cares: base_points - base_reversed at occurred_at.
struct QualifyingOrder {
  std::string order_id;
  TimePoint occurred_at{};
  Points points = 0;
  bool operator==(const QualifyingOrder&) const = default;
};

struct MemberRow {
  std::string member_id;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::optional<std::string> locale;
  bool marketing_opt_in = false;
  TimePoint enrolled_at{};
  std::optional<TimePoint> erased_at;
  Points balance = 0;
  Points debt = 0;
  std::string tier;
  TimePoint tier_reached_at{};
  std::optional<TimePoint> first_purchase_at;
  std::optional<TimePoint> last_purchase_at;
  std::int64_t purchase_count = 0;
  std::optional<TimePoint> last_activity_at;
  bool operator==(const MemberRow&) const = default;
};

struct LotRow {
  std::int64_t id = 0;
  std::string member_id;
  std::int64_t entry_id = 0;
  Points original = 0;
  Points remaining = 0;
  TimePoint earned_at{};
  TimePoint vests_at{};
  std::optional<TimePoint> expires_at;
  std::string program_version;
  bool operator==(const LotRow&) const = default;
};

struct OrderRow {
  std::string order_id;
  std::string member_id;
  std::int64_t amount_minor = 0;
  std::string currency;
  TimePoint occurred_at{};
  std::optional<std::string> store_id;
  Points base_points = 0;
  Points earned_points = 0;
  Points bonus_points = 0;  // sum of the bonus entries (promotion_awards names each of them)
  std::optional<std::int64_t> earn_entry_id;
  std::optional<std::int64_t> earn_lot_id;
  // The first bonus entry, if any. (The orders table's bonus_promotion_id and bonus_lot_id
  // columns are no longer written: refunds find every bonus through promotion_awards.)
  std::optional<std::int64_t> bonus_entry_id;
  std::int64_t refunded_minor = 0;
  Points reversed_due = 0;
  Points base_reversed = 0;
  Points bonus_reversed = 0;
};

struct RefundRow {
  std::string refund_id;
  std::string order_id;
  std::int64_t amount_minor = 0;
  Points points_reversed = 0;
  TimePoint created_at{};
};

// Whole-ledger gauges for /metrics.
// What one WAL checkpoint did, in frames (4 KiB pages) of the WAL as the checkpoint saw it.
struct WalCheckpoint {
  bool ran = false;  // false: nothing to do, or another checkpoint held the lock (SQLITE_BUSY)
  int log_frames = 0;
  int copied_frames = 0;  // in the database file after this checkpoint, copied before or now
  // Every frame is in the database file: the next write transaction starts the WAL over.
  bool copied_all() const { return ran && copied_frames == log_frames; }
  // A forced RESTART (checkpoint_passive) gave up waiting for readers or the writer: the WAL
  // cannot start over yet, and forcing again at once would only block writes again.
  bool restart_gave_up = false;
  bool restart_tried = false;  // a forced RESTART was attempted
};

// The disk failed an I/O operation during a checkpoint (SQLITE_IOERR). A failed sync may have
// lost pages for good (Linux reports a failed write-back once and drops the pages' dirty state),
// so nothing may be copied, written or acknowledged after it (Ledger::durability_lost).
struct StorageFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct LedgerTotals {
  std::int64_t members = 0;
  std::int64_t last_entry_id = 0;
  Points balance = 0;  // sum of members' balances
  Points debt = 0;
};

struct ApiKeyRow {
  std::string name;
  std::string role;
  std::string key_hash;  // 32 raw bytes
  TimePoint created_at{};
  std::optional<TimePoint> revoked_at;
};

struct IdempotencyRecord {
  std::string key_name;
  std::string idem_key;
  std::string request_hash;  // 32 raw bytes
  int status = 0;
  std::string body;
  TimePoint created_at{};
};

// Totals for verify: recomputed from entries, compared with the stored member state.
struct StoredMemberTotals {
  std::string member_id;
  Points balance = 0;
  Points debt = 0;
  Points lots_remaining = 0;
};

class ReminderStore;  // ledger/reminder_store.h
class ReportStore;    // ledger/report_store.h

class Store {
 public:
  virtual ~Store() = default;

  // Transactions. begin_write takes the write lock at once (BEGIN IMMEDIATE).
  virtual void begin_write() = 0;
  virtual void commit() = 0;
  // Commits without waiting for the WAL to be durable (WalSyncMode::deferred, ledger/writer_vfs.h):
  // true when the caller owes a sync of wal_path() before acknowledging the transaction. Other
  // connections see the transaction at once. Stores without a WAL, and connections that may
  // checkpoint inside COMMIT (before take_over_wal_restarts()), commit durably and say false.
  virtual bool commit_deferring_sync() {
    commit();
    return false;
  }
  // The database's WAL file; empty for stores without one.
  virtual std::string wal_path() const { return {}; }
  virtual void rollback() = 0;
  virtual void savepoint() = 0;
  virtual void release_savepoint() = 0;
  virtual void rollback_to_savepoint() = 0;
  virtual void begin_read() = 0;  // a consistent snapshot for multi-query reads
  virtual void end_read() = 0;

  virtual std::optional<MemberRow> member(const std::string& member_id) = 0;
  virtual void insert_member(const MemberRow& row) = 0;
  virtual void update_member_state(const MemberRow& row) = 0;
  virtual void update_member_contact(const MemberRow& row) = 0;
  // The audit record of a privacy erasure (reason may be absent for API callers).
  virtual void insert_member_erasure(const std::string& member_id, TimePoint at,
                                     const std::string& actor,
                                     const std::optional<std::string>& reason) = 0;

  virtual std::vector<LotRow> open_lots(const std::string& member_id) = 0;
  virtual std::optional<LotRow> lot(std::int64_t lot_id) = 0;
  virtual std::int64_t insert_lot(const LotRow& row) = 0;  // returns the new id
  virtual void set_lot_remaining(std::int64_t lot_id, Points remaining) = 0;

  virtual std::optional<std::pair<std::int64_t, Sha256>> last_entry() = 0;
  virtual void insert_entry(const Entry& entry) = 0;
  virtual std::optional<Entry> entry(std::int64_t id) = 0;
  // Newest first, ids strictly below `before_id` (when given).
  virtual std::vector<Entry> member_entries(const std::string& member_id,
                                            std::optional<std::int64_t> before_id,
                                            std::size_t limit) = 0;
  // Every entry in id order, for verify and export. Returning false stops the scan.
  virtual void scan_entries(const std::function<bool(const Entry&)>& visit) = 0;

  virtual std::optional<OrderRow> order(const std::string& order_id) = 0;
  virtual void insert_order(const OrderRow& row) = 0;
  virtual void update_order(const OrderRow& row) = 0;
  virtual std::int64_t count_orders(const std::string& member_id, TimePoint from_inclusive,
                                    TimePoint to_inclusive) = 0;
  // Sum of (base_points - base_reversed) for orders with occurred_at in (from, to].
  virtual Points qualifying_points(const std::string& member_id, TimePoint from_exclusive,
                                   TimePoint to_inclusive) = 0;
  // The member's orders with occurred_at > `after`, at most `limit` of them (any order).
  virtual std::vector<QualifyingOrder> qualifying_orders(const std::string& member_id,
                                                         TimePoint after, std::size_t limit) = 0;

  virtual std::optional<RefundRow> refund(const std::string& refund_id) = 0;
  virtual void insert_refund(const RefundRow& row) = 0;

  virtual std::optional<HoldView> hold(const std::string& hold_id) = 0;
  virtual std::vector<HoldView> open_holds(const std::string& member_id) = 0;
  virtual void insert_hold(const HoldView& hold) = 0;
  virtual void close_hold(const std::string& hold_id, HoldState state, TimePoint closed_at,
                          Points captured_points, std::optional<std::int64_t> entry_id) = 0;

  virtual bool promotion_awarded(const std::string& member_id, const std::string& promotion_id) = 0;
  virtual void insert_promotion_award(const std::string& member_id, const std::string& promotion_id,
                                      const std::string& order_id, std::int64_t entry_id) = 0;
  // The bonus entries one purchase triggered (one per promotion), in entry id order.
  virtual std::vector<std::int64_t> awarded_bonus_entries(const std::string& member_id,
                                                          const std::string& order_id) = 0;

  virtual std::optional<std::int64_t> reversal_of(std::int64_t entry_id) = 0;
  virtual void insert_reversal(std::int64_t entry_id, std::int64_t reversal_entry_id) = 0;

  virtual void insert_tier_change(const std::string& member_id, const TierChange& change) = 0;
  virtual std::vector<TierChange> tier_changes(const std::string& member_id) = 0;

  // Members holding open lots that expired at or before `as_of` (fixed_term policy).
  virtual std::vector<std::string> members_with_expired_lots(TimePoint as_of) = 0;
  // Members with open lots whose last activity is at or before `active_before` (inactivity).
  virtual std::vector<std::string> members_inactive_since(TimePoint active_before) = 0;
  virtual std::vector<std::string> all_member_ids() = 0;
  // Up to `limit` member ids that sort after `after` (bytewise), in order.
  virtual std::vector<std::string> member_ids_after(const std::string& after,
                                                    std::size_t limit) = 0;
  // Every member in member_id order, for export. Returning false stops the scan.
  virtual void scan_members(const std::function<bool(const MemberRow&)>& visit) = 0;
  // Members with open holds past their expiry.
  virtual std::vector<std::string> members_with_stale_holds(TimePoint as_of) = 0;

  virtual std::optional<ApiKeyRow> api_key(const std::string& name) = 0;
  virtual std::vector<ApiKeyRow> api_keys() = 0;
  virtual void insert_api_key(const ApiKeyRow& row) = 0;
  virtual bool revoke_api_key(const std::string& name, TimePoint at) = 0;

  virtual std::optional<IdempotencyRecord> idempotency(const std::string& key_name,
                                                       const std::string& idem_key) = 0;
  virtual void insert_idempotency(const IdempotencyRecord& record) = 0;
  // Deletes up to `limit` idempotency records created before `older_than`, oldest first;
  // returns how many.
  virtual std::int64_t purge_idempotency(TimePoint older_than, std::size_t limit) = 0;

  virtual std::vector<StoredMemberTotals> member_totals() = 0;
  virtual LedgerTotals ledger_totals() = 0;
  virtual std::string integrity_check() = 0;  // "ok" when the file is sound
  // Copies the database to `path` with SQLite's online backup API, in steps of a few MiB, all
  // from ONE read snapshot (writers go on; the copy is the database as of the first step).
  // `progress(pages_done, pages_total)` is called after every step.
  using BackupProgress = std::function<void(std::int64_t pages_done, std::int64_t pages_total)>;
  virtual void backup_to(const std::string& path, const BackupProgress& progress) = 0;

  // WAL upkeep (no-ops for a backend without a WAL), split so that neither side blocks the
  // other (docs/PERFORMANCE.md "WAL restarts"). A background connection calls
  // checkpoint_passive(): it copies what it can to the database file without waiting for anyone.
  // The writer's connection calls take_over_wal_restarts() once (no more checkpoints at commit;
  // it notes the WAL's length after each commit) and restart_wal_if_long() between transactions:
  // once the WAL holds more than `max_frames`, it copies the few frames the background pass has
  // not yet, so that the next write transaction starts the WAL file over from its beginning.
  // Both checkpointing calls report what they copied (wal_reset_guard.h says why callers care);
  // restart_wal_if_long() does nothing while the WAL is not longer than `max_frames`.
  virtual void take_over_wal_restarts() {}
  virtual WalCheckpoint restart_wal_if_long(int max_frames) {
    (void)max_frames;
    return {};
  }
  // The WAL's length in frames after this connection's last commit (0 before
  // take_over_wal_restarts() or without a WAL).
  virtual int wal_frames() const { return 0; }
  // How many of this connection's commits wrote WAL frames (a commit that changed no page writes
  // none), counted after take_over_wal_restarts().
  virtual std::uint64_t wal_commits() const { return 0; }
  // `force_restart_frames` > 0: past that many frames (restarts kept failing), a RESTART
  // checkpoint that waits for readers and the writer instead. It holds the write lock while it
  // waits, so the wait is bounded (100 ms) and a RESTART that gave up says so
  // (`restart_gave_up`): a long reader (report, backup) then lets the WAL grow, it never stalls
  // writes for its whole snapshot.
  virtual WalCheckpoint checkpoint_passive(int force_restart_frames) {
    (void)force_restart_frames;
    return {};
  }
  // Starts the write-back of the database file's dirty pages without waiting for it (a hint, not
  // a sync); returns whether it did. The background pass calls it after copying frames. SQLite
  // syncs the database file only after a checkpoint that copied the whole WAL as it stands when
  // the copy ends (walCheckpoint truncates and syncs then), which under steady writes only the
  // writer's own copy before a restart does; that copy's sync then wrote every page copied since
  // the last restart while every write waited: 42-66 ms, twice a second, under closed-loop
  // purchases (`perf trace`, docs/PERFORMANCE.md, 2026-12-02 night). Durability still rests on
  // that sync, which also reports a failed write-back. An fdatasync here instead was tried: its
  // journal commits slowed the WAL's syncs, and the paced p99 with them.
  virtual bool start_database_writeback() { return false; }
  // After a storage failure: closing this connection must not checkpoint (SQLite copies the WAL
  // into the database when its last connection closes), so the files stay as the failure left
  // them for recovery.
  virtual void keep_wal_on_close() {}
  // For a connection that writes while another process checkpoints (`encore-admin keys` next to
  // a running server): it never checkpoints at commit (wal_reset_guard.h).
  virtual void never_checkpoint() {}
  // Reminders outbox and planning queries (SPEC 7), on the same connection and transaction.
  virtual ReminderStore& reminders() = 0;
  // Whole-ledger scans for the reports of SPEC 8, on the same connection and transaction.
  virtual ReportStore& reports() = 0;
};

enum class OpenMode { read_write, read_only };

// Opens (creating and migrating when read_write) an SQLite database in WAL mode with
// synchronous=FULL, so a committed transaction is on disk before commit() returns.
std::unique_ptr<Store> open_sqlite_store(const std::string& path, OpenMode mode);

// Schema version of the file (0 for an empty one) and the newest this build knows.
int sqlite_schema_version(const std::string& path);
int latest_schema_version();

// Encoding of an entry's lot draws in the `entries.lots` column: "12:50,13:30".
std::string encode_lots(const std::vector<LotDraw>& lots);
std::vector<LotDraw> decode_lots(std::string_view text);

}  // namespace encore
