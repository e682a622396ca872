// The SQLite implementation of Store. Statements are prepared once per connection and reused.
#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "ledger/migrations.h"
#include "ledger/sqlite_reminder_store.h"
#include "ledger/sqlite_report_store.h"
#include "ledger/sqlite_rows.h"
#include "ledger/store.h"
#include "ledger/writer_vfs.h"

namespace encore {
namespace {

using sqlite_rows::kHoldColumns;
using sqlite_rows::kLotColumns;
using sqlite_rows::kMemberColumns;
using sqlite_rows::read_hold;
using sqlite_rows::read_lot;
using sqlite_rows::read_member;

std::int64_t secs(TimePoint t) {
  return t.time_since_epoch().count();
}
TimePoint from_secs(std::int64_t s) {
  return TimePoint{std::chrono::seconds{s}};
}

// Binding helpers: std::optional maps to NULL.
void put(SQLite::Statement& s, int i, const std::string& v) {
  s.bind(i, v);
}
void put(SQLite::Statement& s, int i, std::int64_t v) {
  s.bind(i, static_cast<int64_t>(v));
}
void put(SQLite::Statement& s, int i, TimePoint v) {
  s.bind(i, static_cast<int64_t>(secs(v)));
}
void put(SQLite::Statement& s, int i, bool v) {
  s.bind(i, v ? 1 : 0);
}
template <class T>
void put(SQLite::Statement& s, int i, const std::optional<T>& v) {
  if (v) {
    put(s, i, *v);
  } else {
    s.bind(i);
  }
}
// Binds `values` to parameters 1, 2, ... in order and returns the statement.
template <class... Values>
SQLite::Statement& bound(SQLite::Statement& s, const Values&... values) {
  int index = 0;
  (put(s, ++index, values), ...);
  return s;
}
void bind_blob(SQLite::Statement& s, int i, const void* data, std::size_t size) {
  s.bind(i, data, static_cast<int>(size));
}

std::optional<std::string> opt_text(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getString();
}
std::optional<std::int64_t> opt_int(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return c.getInt64();
}
std::optional<TimePoint> opt_time(const SQLite::Column& c) {
  if (c.isNull()) return std::nullopt;
  return from_secs(c.getInt64());
}
std::string blob(const SQLite::Column& c) {
  return std::string(static_cast<const char*>(c.getBlob()), static_cast<std::size_t>(c.getBytes()));
}

constexpr const char* kEntryColumns =
    "id, member_id, kind, points, occurred_at, recorded_at, order_id, refund_id, hold_id, "
    "promotion_id, reason, reward, ref_entry_id, actor, lots, hash";
constexpr const char* kOrderColumns =
    "order_id, member_id, amount_minor, currency, occurred_at, store_id, base_points, "
    "earned_points, bonus_points, earn_entry_id, earn_lot_id, bonus_entry_id, refunded_minor, "
    "reversed_due, base_reversed, bonus_reversed";

Entry read_entry(SQLite::Statement& s) {
  Entry e;
  e.id = s.getColumn(0).getInt64();
  e.member_id = s.getColumn(1).getString();
  auto kind = entry_kind_from(s.getColumn(2).getString());
  if (!kind) throw std::runtime_error("entries.kind holds an unknown kind");
  e.kind = *kind;
  e.points = s.getColumn(3).getInt64();
  e.occurred_at = from_secs(s.getColumn(4).getInt64());
  e.recorded_at = from_secs(s.getColumn(5).getInt64());
  e.order_id = opt_text(s.getColumn(6));
  e.refund_id = opt_text(s.getColumn(7));
  e.hold_id = opt_text(s.getColumn(8));
  e.promotion_id = opt_text(s.getColumn(9));
  e.reason = opt_text(s.getColumn(10));
  e.reward = opt_text(s.getColumn(11));
  e.ref_entry_id = opt_int(s.getColumn(12));
  e.actor = s.getColumn(13).getString();
  if (!s.getColumn(14).isNull()) e.lots = decode_lots(s.getColumn(14).getString());
  auto h = blob(s.getColumn(15));
  if (h.size() != e.hash.size()) throw std::runtime_error("entries.hash is not 32 bytes");
  std::copy(h.begin(), h.end(), e.hash.begin());
  return e;
}

OrderRow read_order(SQLite::Statement& s) {
  OrderRow r;
  r.order_id = s.getColumn(0).getString();
  r.member_id = s.getColumn(1).getString();
  r.amount_minor = s.getColumn(2).getInt64();
  r.currency = s.getColumn(3).getString();
  r.occurred_at = from_secs(s.getColumn(4).getInt64());
  r.store_id = opt_text(s.getColumn(5));
  r.base_points = s.getColumn(6).getInt64();
  r.earned_points = s.getColumn(7).getInt64();
  r.bonus_points = s.getColumn(8).getInt64();
  r.earn_entry_id = opt_int(s.getColumn(9));
  r.earn_lot_id = opt_int(s.getColumn(10));
  r.bonus_entry_id = opt_int(s.getColumn(11));
  r.refunded_minor = s.getColumn(12).getInt64();
  r.reversed_due = s.getColumn(13).getInt64();
  r.base_reversed = s.getColumn(14).getInt64();
  r.bonus_reversed = s.getColumn(15).getInt64();
  return r;
}

// SQLite's default busy handler sleeps 1, 2, 5, 10, 15, 20 ms... between retries, so the writer
// blocked for 3 ms by a checkpoint slept 18 ms (a p99 purchase stall). Retrying every 100 µs
// costs nothing while uncontended and ends a wait within 100 µs of the lock being free.
// Gives up (SQLITE_BUSY) 5 s after the first retry of a wait, or after the milliseconds that
// `limit_ms` points to, measured on the steady clock (counting retries would stretch it by every
// sleep's overshoot). A connection is used by one thread at a time, so the wait's start can live
// in a thread_local.
int retry_soon(void* limit_ms, int attempts) {
  constexpr auto default_busy_timeout = std::chrono::milliseconds(5000);
  constexpr auto retry_interval = std::chrono::microseconds(100);
  const auto busy_timeout = limit_ms != nullptr
                                ? *static_cast<const std::chrono::milliseconds*>(limit_ms)
                                : default_busy_timeout;
  thread_local std::chrono::steady_clock::time_point wait_started;
  const auto now = std::chrono::steady_clock::now();
  if (attempts == 0) wait_started = now;
  if (now - wait_started >= busy_timeout) return 0;
  std::this_thread::sleep_for(retry_interval);
  return 1;
}

// Every operation of a group commit runs in a savepoint (Writer::isolated), and SQLite first copies
// each page the operation changes into the statement sub-journal. Past SQLite's default of 64 KiB
// that journal moves to a temp file for the rest of the transaction: two pwrite calls per page
// (strace of a purchase run: 8,984 writes to /var/tmp/etilqs_* in 2 s, against 265 to the WAL).
// Up to this size it stays in memory, in one chunk of this size, freed when the savepoint ends;
// a larger journal (bulk jobs) still spills, so memory stays bounded. Set before main, as
// sqlite3_config only works before SQLite initialises (the first connection opened).
// Below 128 KiB: a spill writes each chunk to the temp file in ONE write, and the unix VFS masks
// every write's length to 17 bits (`nBuf &= 0x1ffff`, see writer_vfs.cpp). With 4 MiB chunks
// every savepoint past 4 MiB (a purge of 5,000 idempotency records, a big admin piece) failed
// with SQLITE_FULL, which aborted the whole group-commit batch. A purchase's savepoint is ~15
// pages (~60 KiB), so 120 KiB still keeps every ordinary operation's journal in memory.
constexpr int statement_journal_spill_bytes = 120 * 1024;
static_assert(statement_journal_spill_bytes < 0x1ffff, "a spilled chunk must be one whole write");
[[maybe_unused]] const bool statement_journal_configured =
    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, statement_journal_spill_bytes) == SQLITE_OK;

void apply_pragmas(SQLite::Database& db, OpenMode mode) {
  sqlite3_busy_handler(db.getHandle(), retry_soon, nullptr);
  db.exec("PRAGMA foreign_keys = OFF");
  if (mode == OpenMode::read_write) {
    // 8 MiB on the writer (and the other read-write connections). At every COMMIT SQLite trims
    // the page cache to the database size (pcache1Truncate), and on this workload that walks
    // every cached page: with 64 MiB (16k pages) it was 13% of the writer thread's samples.
    // Alternating runs: 4-16 MiB gave 3.3-3.8k purchases/s against 2.8-3.0k with 64 MiB
    // (docs/PERFORMANCE.md). Pages not cached come from the mmap or the OS page cache.
    db.exec("PRAGMA cache_size = -8192");
  } else {
    db.exec("PRAGMA cache_size = -65536");  // 64 MiB
  }
  // Read-write connections map the file (256 MiB). Read-only ones do not: while anyone writes,
  // every read transaction finds the WAL changed, and SQLite then unmaps the connection's whole
  // mapping (pagerBeginReadTransaction -> sqlite3OsUnfetch), with TLB shootdowns that stall every
  // thread of the process, and faults the pages back in. Under tills' purchases plus app reads,
  // no mmap on the readers gave 2.2x the entries reads and 1.9x the purchases; pure reads lost
  // ~2%, within noise (docs/PERFORMANCE.md, 2026-12-02 evening).
  db.exec(mode == OpenMode::read_write ? "PRAGMA mmap_size = 268435456" : "PRAGMA mmap_size = 0");
  if (mode == OpenMode::read_write) {
    // Not temp_store = MEMORY here: it would keep maintenance jobs' sorts and temp tables in
    // memory without a bound, and statement sub-journals in 1 KiB chunks (several mallocs per
    // page); statement_journal_spill_bytes above keeps those in memory already.
    db.exec("PRAGMA journal_mode = WAL");
    // FULL: the WAL is fsync'd at every commit, so an acknowledged write survives power loss
    // (the server's writer defers that fsync to its sync thread and answers after it:
    // commit_deferring_sync, api/write_queue.h).
    db.exec("PRAGMA synchronous = FULL");
    // The writer VFS holds a commit's WAL frames until its sync; below FULL a commit would publish
    // frames to other connections without one.
    if (db.execAndGet("PRAGMA synchronous").getInt() < 2) {
      throw std::logic_error("read-write connections need synchronous = FULL");
    }
  } else {
    db.exec("PRAGMA temp_store = MEMORY");
  }
}

void migrate(SQLite::Database& db) {
  int current = db.execAndGet("PRAGMA user_version").getInt();
  for (const auto& m : migrations()) {
    if (m.version <= current) continue;
    SQLite::Transaction tx(db, SQLite::TransactionBehavior::IMMEDIATE);
    db.exec(m.sql);
    db.exec("PRAGMA user_version = " + std::to_string(m.version));
    tx.commit();
  }
}

class SqliteStore final : public Store {
 public:
  SqliteStore(const std::string& path, OpenMode mode)
      // Read-only stores are private to one thread at a time (Ledger's ReadPool checks one out
      // per call; tools are single-threaded), so they skip SQLite's per-call connection mutex:
      // in serialized mode every sqlite3_column_* locked it (a 1M-member liability report ran
      // ~20% faster without). The writer's connection keeps it.
      : db_(path,
            mode == OpenMode::read_write
                ? SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX
                : SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX,
            0,
            // A commit's WAL frames in few writes (ledger/writer_vfs.h).
            mode == OpenMode::read_write ? writer_vfs() : "") {
    apply_pragmas(db_, mode);
    if (mode == OpenMode::read_write) migrate(db_);
  }

  // Transaction control runs through cached prepared statements like every query: sqlite3_exec
  // would parse the SQL again on each call, and these run several times per request.
  void begin_write() override { stmt(sql_begin_immediate_).exec(); }
  void commit() override { commit_with(WalSyncMode::now); }
  bool commit_deferring_sync() override {
    // SQLite's own WAL hook checkpoints inside COMMIT; a checkpoint's WAL sync must come before
    // it copies frames into the database file, so it may not be deferred with the commit's.
    return commit_with(no_checkpoint_at_commit_ ? WalSyncMode::deferred : WalSyncMode::now);
  }
  std::string wal_path() const override {
    const char* db_file = sqlite3_db_filename(db_.getHandle(), "main");
    if (db_file == nullptr || *db_file == '\0') return {};  // in memory
    const char* wal = sqlite3_filename_wal(db_file);
    return wal == nullptr ? std::string() : std::string(wal);
  }
  void rollback() override {
    reset_statements();
    if (!sqlite3_get_autocommit(db_.getHandle())) db_.exec("ROLLBACK");
  }
  void savepoint() override { stmt(sql_savepoint_).exec(); }
  void release_savepoint() override { stmt(sql_release_).exec(); }
  void rollback_to_savepoint() override { db_.exec("ROLLBACK TO op; RELEASE op"); }
  void begin_read() override { stmt(sql_begin_).exec(); }
  void end_read() override {
    reset_statements();
    if (!sqlite3_get_autocommit(db_.getHandle())) stmt(sql_commit_).exec();
  }

  std::optional<MemberRow> member(const std::string& member_id) override {
    auto& s = bound(stmt(sql_member_), member_id);
    if (!s.executeStep()) return std::nullopt;
    return read_member(s);
  }

  void insert_member(const MemberRow& r) override {
    auto& s = bound(stmt(sql_insert_member_), r.member_id, r.email, r.phone, r.locale,
                    r.marketing_opt_in, r.enrolled_at, r.tier, r.tier_reached_at);
    s.exec();
  }

  void update_member_state(const MemberRow& r) override {
    auto& s = bound(stmt(sql_update_member_state_), r.balance, r.debt, r.tier, r.tier_reached_at,
                    r.first_purchase_at, r.last_purchase_at, r.purchase_count, r.last_activity_at,
                    r.member_id);
    s.exec();
  }

  void update_member_contact(const MemberRow& r) override {
    auto& s = bound(stmt(sql_update_member_contact_), r.email, r.phone, r.locale,
                    r.marketing_opt_in, r.erased_at, r.member_id);
    s.exec();
  }

  std::vector<LotRow> open_lots(const std::string& member_id) override {
    auto& s = bound(stmt(sql_open_lots_), member_id);
    std::vector<LotRow> out;
    while (s.executeStep()) out.push_back(read_lot(s));
    return out;
  }

  std::optional<LotRow> lot(std::int64_t lot_id) override {
    auto& s = bound(stmt(sql_lot_), lot_id);
    if (!s.executeStep()) return std::nullopt;
    return read_lot(s);
  }

  std::int64_t insert_lot(const LotRow& r) override {
    // A lot is identified by the id of the entry that created it (docs/openapi.yaml LotDraw,
    // docs/api.md), so `lots: [{lot_id}]` in the entries read names an entry a client can look
    // up. Each lot comes from exactly one earn, bonus or adjust entry, so the id is unique.
    auto& s = bound(stmt(sql_insert_lot_), r.entry_id, r.member_id, r.entry_id, r.original,
                    r.remaining, r.earned_at, r.vests_at, r.expires_at, r.program_version);
    s.exec();
    return r.entry_id;
  }

  void set_lot_remaining(std::int64_t lot_id, Points remaining) override {
    auto& s = bound(stmt(sql_set_lot_remaining_), remaining, lot_id);
    s.exec();
  }

  std::optional<std::pair<std::int64_t, Sha256>> last_entry() override {
    auto& s = stmt(sql_last_entry_);
    if (!s.executeStep()) return std::nullopt;
    Sha256 h{};
    auto b = blob(s.getColumn(1));
    if (b.size() != h.size()) throw std::runtime_error("entries.hash is not 32 bytes");
    std::copy(b.begin(), b.end(), h.begin());
    return std::make_pair(s.getColumn(0).getInt64(), h);
  }

  void insert_entry(const Entry& e) override {
    auto& s = stmt(sql_insert_entry_);
    put(s, 1, e.id);
    put(s, 2, e.member_id);
    s.bind(3, std::string(to_string(e.kind)));
    put(s, 4, e.points);
    put(s, 5, e.occurred_at);
    put(s, 6, e.recorded_at);
    put(s, 7, e.order_id);
    put(s, 8, e.refund_id);
    put(s, 9, e.hold_id);
    put(s, 10, e.promotion_id);
    put(s, 11, e.reason);
    put(s, 12, e.reward);
    put(s, 13, e.ref_entry_id);
    put(s, 14, e.actor);
    if (e.lots.empty()) {
      s.bind(15);
    } else {
      s.bind(15, encode_lots(e.lots));
    }
    bind_blob(s, 16, e.hash.data(), e.hash.size());
    s.exec();
  }

  std::optional<Entry> entry(std::int64_t id) override {
    auto& s = bound(stmt(sql_entry_), id);
    if (!s.executeStep()) return std::nullopt;
    return read_entry(s);
  }

  std::vector<Entry> member_entries(const std::string& member_id,
                                    std::optional<std::int64_t> before_id,
                                    std::size_t limit) override {
    auto& s = bound(stmt(sql_member_entries_), member_id, before_id.value_or(INT64_MAX),
                    static_cast<std::int64_t>(limit));
    std::vector<Entry> out;
    while (s.executeStep()) out.push_back(read_entry(s));
    return out;
  }

  void scan_entries(const std::function<bool(const Entry&)>& visit) override {
    SQLite::Statement s(db_, std::string("SELECT ") + kEntryColumns + " FROM entries ORDER BY id");
    while (s.executeStep()) {
      if (!visit(read_entry(s))) return;
    }
  }

  std::optional<OrderRow> order(const std::string& order_id) override {
    auto& s = bound(stmt(sql_order_), order_id);
    if (!s.executeStep()) return std::nullopt;
    return read_order(s);
  }

  void insert_order(const OrderRow& r) override {
    auto& s = stmt(sql_insert_order_);
    bind_order(s, r);
    s.exec();
  }

  void update_order(const OrderRow& r) override {
    auto& s = stmt(sql_update_order_);
    bind_order(s, r);
    s.exec();
  }

  std::int64_t count_orders(const std::string& member_id, TimePoint from, TimePoint to) override {
    auto& s = bound(stmt(sql_count_orders_), member_id, from, to);
    s.executeStep();
    return s.getColumn(0).getInt64();
  }

  Points qualifying_points(const std::string& member_id, TimePoint from_exclusive,
                           TimePoint to_inclusive) override {
    auto& s = bound(stmt(sql_qualifying_), member_id, from_exclusive, to_inclusive);
    s.executeStep();
    return s.getColumn(0).getInt64();
  }

  void insert_member_erasure(const std::string& member_id, TimePoint at, const std::string& actor,
                             const std::optional<std::string>& reason) override {
    auto& s = bound(stmt(sql_insert_erasure_), member_id, at, actor, reason);
    s.exec();
  }

  std::vector<QualifyingOrder> qualifying_orders(const std::string& member_id, TimePoint after,
                                                 std::size_t limit) override {
    auto& s =
        bound(stmt(sql_qualifying_orders_), member_id, after, static_cast<std::int64_t>(limit));
    std::vector<QualifyingOrder> out;
    while (s.executeStep()) {
      out.push_back(QualifyingOrder{s.getColumn(0).getString(),
                                    from_secs(s.getColumn(1).getInt64()),
                                    s.getColumn(2).getInt64()});
    }
    return out;
  }

  std::optional<RefundRow> refund(const std::string& refund_id) override {
    auto& s = bound(stmt(sql_refund_), refund_id);
    if (!s.executeStep()) return std::nullopt;
    return RefundRow{s.getColumn(0).getString(), s.getColumn(1).getString(),
                     s.getColumn(2).getInt64(), s.getColumn(3).getInt64(),
                     from_secs(s.getColumn(4).getInt64())};
  }

  void insert_refund(const RefundRow& r) override {
    auto& s = bound(stmt(sql_insert_refund_), r.refund_id, r.order_id, r.amount_minor,
                    r.points_reversed, r.created_at);
    s.exec();
  }

  std::optional<HoldView> hold(const std::string& hold_id) override {
    auto& s = bound(stmt(sql_hold_), hold_id);
    if (!s.executeStep()) return std::nullopt;
    return read_hold(s);
  }

  std::vector<HoldView> open_holds(const std::string& member_id) override {
    auto& s = bound(stmt(sql_open_holds_), member_id);
    std::vector<HoldView> out;
    while (s.executeStep()) out.push_back(read_hold(s));
    return out;
  }

  void insert_hold(const HoldView& h) override {
    auto& s = stmt(sql_insert_hold_);
    put(s, 1, h.hold_id);
    put(s, 2, h.member_id);
    put(s, 3, h.points);
    put(s, 4, h.order_id);
    s.bind(5, std::string(to_string(h.state)));
    put(s, 6, h.created_at);
    put(s, 7, h.expires_at);
    s.exec();
  }

  void close_hold(const std::string& hold_id, HoldState state, TimePoint closed_at,
                  Points captured_points, std::optional<std::int64_t> entry_id) override {
    auto& s = stmt(sql_close_hold_);
    s.bind(1, std::string(to_string(state)));
    put(s, 2, closed_at);
    put(s, 3, captured_points);
    put(s, 4, entry_id);
    put(s, 5, hold_id);
    s.exec();
  }

  bool promotion_awarded(const std::string& member_id, const std::string& promotion_id) override {
    auto& s = bound(stmt(sql_award_), member_id, promotion_id);
    return s.executeStep();
  }

  void insert_promotion_award(const std::string& member_id, const std::string& promotion_id,
                              const std::string& order_id, std::int64_t entry_id) override {
    auto& s = bound(stmt(sql_insert_award_), member_id, promotion_id, order_id, entry_id);
    s.exec();
  }

  std::vector<std::int64_t> awarded_bonus_entries(const std::string& member_id,
                                                  const std::string& order_id) override {
    auto& s = bound(stmt(sql_awards_of_order_), member_id, order_id);
    std::vector<std::int64_t> out;
    while (s.executeStep()) out.push_back(s.getColumn(0).getInt64());
    return out;
  }

  std::optional<std::int64_t> reversal_of(std::int64_t entry_id) override {
    auto& s = bound(stmt(sql_reversal_), entry_id);
    if (!s.executeStep()) return std::nullopt;
    return s.getColumn(0).getInt64();
  }

  void insert_reversal(std::int64_t entry_id, std::int64_t reversal_entry_id) override {
    auto& s = bound(stmt(sql_insert_reversal_), entry_id, reversal_entry_id);
    s.exec();
  }

  void insert_tier_change(const std::string& member_id, const TierChange& c) override {
    auto& s = bound(stmt(sql_insert_tier_change_), member_id, c.from_tier, c.to_tier, c.changed_at,
                    c.qualifying_points, c.reason);
    s.exec();
  }

  std::vector<TierChange> tier_changes(const std::string& member_id) override {
    auto& s = bound(stmt(sql_tier_changes_), member_id);
    std::vector<TierChange> out;
    while (s.executeStep()) {
      out.push_back(TierChange{opt_text(s.getColumn(0)), s.getColumn(1).getString(),
                               from_secs(s.getColumn(2).getInt64()), s.getColumn(3).getInt64(),
                               s.getColumn(4).getString()});
    }
    return out;
  }

  std::vector<std::string> members_with_expired_lots(TimePoint as_of) override {
    return member_list(sql_members_expired_lots_, as_of);
  }
  std::vector<std::string> members_inactive_since(TimePoint active_before) override {
    return member_list(sql_members_inactive_, active_before);
  }
  std::vector<std::string> all_member_ids() override {
    auto& s = stmt(sql_all_members_);
    std::vector<std::string> out;
    while (s.executeStep()) out.push_back(s.getColumn(0).getString());
    return out;
  }
  std::vector<std::string> member_ids_after(const std::string& after, std::size_t limit) override {
    auto& s = stmt(sql_member_ids_after_);
    s.bind(1, after);
    s.bind(2, static_cast<std::int64_t>(limit));
    std::vector<std::string> out;
    out.reserve(limit);
    while (s.executeStep()) out.push_back(s.getColumn(0).getString());
    return out;
  }
  void scan_members(const std::function<bool(const MemberRow&)>& visit) override {
    SQLite::Statement s(
        db_, std::string("SELECT ") + kMemberColumns + " FROM members ORDER BY member_id");
    while (s.executeStep()) {
      if (!visit(read_member(s))) return;
    }
  }
  std::vector<std::string> members_with_stale_holds(TimePoint as_of) override {
    return member_list(sql_members_stale_holds_, as_of);
  }

  std::optional<ApiKeyRow> api_key(const std::string& name) override {
    auto& s = bound(stmt(sql_api_key_), name);
    if (!s.executeStep()) return std::nullopt;
    return read_api_key(s);
  }

  std::vector<ApiKeyRow> api_keys() override {
    auto& s = stmt(sql_api_keys_);
    std::vector<ApiKeyRow> out;
    while (s.executeStep()) out.push_back(read_api_key(s));
    return out;
  }

  void insert_api_key(const ApiKeyRow& r) override {
    auto& s = stmt(sql_insert_api_key_);
    put(s, 1, r.name);
    put(s, 2, r.role);
    bind_blob(s, 3, r.key_hash.data(), r.key_hash.size());
    put(s, 4, r.created_at);
    s.exec();
  }

  bool revoke_api_key(const std::string& name, TimePoint at) override {
    auto& s = bound(stmt(sql_revoke_api_key_), at, name);
    return s.exec() == 1;
  }

  std::optional<IdempotencyRecord> idempotency(const std::string& key_name,
                                               const std::string& idem_key) override {
    auto& s = bound(stmt(sql_idempotency_), key_name, idem_key);
    if (!s.executeStep()) return std::nullopt;
    return IdempotencyRecord{key_name,
                             idem_key,
                             blob(s.getColumn(0)),
                             s.getColumn(1).getInt(),
                             s.getColumn(2).getString(),
                             from_secs(s.getColumn(3).getInt64())};
  }

  void insert_idempotency(const IdempotencyRecord& r) override {
    auto& s = stmt(sql_insert_idempotency_);
    put(s, 1, r.key_name);
    put(s, 2, r.idem_key);
    bind_blob(s, 3, r.request_hash.data(), r.request_hash.size());
    put(s, 4, static_cast<std::int64_t>(r.status));
    put(s, 5, r.body);
    put(s, 6, r.created_at);
    s.exec();
  }

  std::int64_t purge_idempotency(TimePoint older_than, std::size_t limit) override {
    auto& s = bound(stmt(sql_purge_idempotency_), older_than, static_cast<std::int64_t>(limit));
    return s.exec();
  }

  std::vector<StoredMemberTotals> member_totals() override {
    SQLite::Statement s(db_,
                        "SELECT m.member_id, m.balance, m.debt, "
                        "(SELECT COALESCE(SUM(remaining), 0) FROM lots l "
                        " WHERE l.member_id = m.member_id AND l.remaining > 0) "
                        "FROM members m ORDER BY m.member_id");
    std::vector<StoredMemberTotals> out;
    while (s.executeStep()) {
      out.push_back(StoredMemberTotals{s.getColumn(0).getString(), s.getColumn(1).getInt64(),
                                       s.getColumn(2).getInt64(), s.getColumn(3).getInt64()});
    }
    return out;
  }

  LedgerTotals ledger_totals() override {
    auto& s = stmt(sql_ledger_totals_);
    s.executeStep();
    LedgerTotals t{s.getColumn(0).getInt64(), 0, s.getColumn(1).getInt64(),
                   s.getColumn(2).getInt64()};
    auto& last = stmt(sql_last_entry_);
    if (last.executeStep()) t.last_entry_id = last.getColumn(0).getInt64();
    return t;
  }

  std::string integrity_check() override {
    return db_.execAndGet("PRAGMA integrity_check").getString();
  }

  void take_over_wal_restarts() override {
    // Replaces SQLite's own WAL hook, which is what checkpoints at commit (wal_autocheckpoint).
    sqlite3_wal_hook(db_.getHandle(), note_wal_frames, this);
    no_checkpoint_at_commit_ = true;
  }

  WalCheckpoint restart_wal_if_long(int max_frames) override {
    if (wal_frames_ <= max_frames) return {};
    // PASSIVE: never waits. SQLITE_BUSY means the background pass is copying right now; the
    // next transaction's call tries again. Once every frame is in the database file and no reader
    // still reads from the WAL, SQLite starts the WAL over at this connection's next write.
    WalCheckpoint done;
    const int rc = sqlite3_wal_checkpoint_v2(db_.getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                             &done.log_frames, &done.copied_frames);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) throw_checkpoint_failure(rc);
    done.ran = rc == SQLITE_OK;
    return done;
  }

  bool start_database_writeback() override {
    const int fd = database_fd();
    // WRITE only, never the WAIT flags: waiting would collect a write-back error on SQLite's own
    // descriptor, and the writer's fdatasync before the restart must be the one to see it.
    return fd >= 0 && ::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) == 0;
  }

  void never_checkpoint() override { sqlite3_wal_autocheckpoint(db_.getHandle(), 0); }
  void keep_wal_on_close() override {
    sqlite3_db_config(db_.getHandle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  }

  int wal_frames() const override { return wal_frames_; }
  std::uint64_t wal_commits() const override { return wal_commits_; }

  WalCheckpoint checkpoint_passive(int force_restart_frames) override {
    // Copies what it can without blocking; SQLITE_BUSY (another checkpoint running) is fine, the
    // next call catches up. Under steady load a PASSIVE pass never completes (the writer keeps
    // appending), so it never lets the WAL start over by itself: restart_wal_if_long() does. That
    // restart needs a moment with no reader on the WAL; if readers (backups, reports, reminder
    // planning) keep overlapping it, the WAL grows, and past `force_restart_frames` this falls
    // back to a RESTART checkpoint, which waits (busy handler, at most 100 ms) for those readers
    // and for the writer's current batch.
    WalCheckpoint done;
    const int rc = sqlite3_wal_checkpoint_v2(db_.getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE,
                                             &done.log_frames, &done.copied_frames);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) throw_checkpoint_failure(rc);
    done.ran = rc == SQLITE_OK;
    // No RESTART after a PASSIVE that copied everything: the guard pauses on that report, and a
    // RESTART that cannot get the write lock in time quietly runs as a PASSIVE next to the
    // writer's open transaction, which may be starting the WAL over (review finding). After a
    // partial copy nothing can start the WAL over (wal_reset_guard.h), so the RESTART is safe.
    if (!done.ran || done.copied_all() || force_restart_frames <= 0 ||
        done.log_frames <= force_restart_frames) {
      return done;
    }
    // A RESTART that copied every frame but gave up waiting for readers returns SQLITE_BUSY with
    // both counts set; that is still a full copy. One that got no checkpoint lock (counts -1)
    // copied nothing: the PASSIVE's report stands. One that failed otherwise may have copied
    // everything first: reported as a full copy of unknown length, which pauses the guard until
    // the writer's next commit (safe; the next pass retries).
    //
    // The RESTART holds the write lock while it waits, so every write waits with it: a reader
    // holding one snapshot for seconds (a report, a backup) would stall writes for as long, again
    // at every pass. The wait is bounded instead; the caller spaces out the next forced attempt.
    WalCheckpoint restart;
    sqlite3_busy_handler(db_.getHandle(), retry_soon, &forced_restart_wait_);
    const int restart_rc =
        sqlite3_wal_checkpoint_v2(db_.getHandle(), nullptr, SQLITE_CHECKPOINT_RESTART,
                                  &restart.log_frames, &restart.copied_frames);
    sqlite3_busy_handler(db_.getHandle(), retry_soon, nullptr);
    restart.restart_tried = true;
    if ((restart_rc & 0xff) == SQLITE_IOERR) throw_checkpoint_failure(restart_rc);
    if (restart_rc == SQLITE_OK || restart_rc == SQLITE_BUSY) {
      if (restart.log_frames < 0) {
        // No checkpoint lock (another checkpoint ran): nothing waited, but the next forced
        // attempt is spaced out all the same; the WAL is long either way.
        done.restart_tried = true;
        done.restart_gave_up = true;
        return done;
      }
      restart.ran = true;
      restart.restart_gave_up = restart_rc == SQLITE_BUSY;
      return restart;
    }
    constexpr int unknown = std::numeric_limits<int>::max();
    WalCheckpoint failed{true, unknown, unknown};
    failed.restart_tried = true;
    return failed;
  }

  void backup_to(const std::string& path, const BackupProgress& progress) override {
    // 64 pages (256 KiB) per step keeps the progress bar moving. Stepping would normally restart
    // whenever another connection commits between steps; holding a read transaction on the source
    // for the whole copy pins one WAL snapshot, so the copy is consistent and finishes under load.
    constexpr int pages_per_step = 64;
    SQLite::Database dest(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    SQLite::Transaction snapshot(db_, SQLite::TransactionBehavior::DEFERRED);
    db_.execAndGet("SELECT count(*) FROM sqlite_schema");  // takes the read snapshot now
    SQLite::Backup backup(dest, db_);
    for (;;) {
      int rc = backup.executeStep(pages_per_step);
      const std::int64_t total = backup.getTotalPageCount();
      if (progress) progress(total - backup.getRemainingPageCount(), total);
      if (rc == SQLITE_DONE) break;
    }
  }

  ReminderStore& reminders() override { return reminders_; }
  ReportStore& reports() override { return reports_; }

 private:
  // The WAL hook installed by take_over_wal_restarts(): SQLite calls it after each commit with
  // the WAL's length in frames.
  static int note_wal_frames(void* self, sqlite3*, const char*, int frames) {
    auto& store = *static_cast<SqliteStore*>(self);
    store.wal_frames_ = frames;
    store.wal_commits_ += 1;
    return SQLITE_OK;
  }

  // A cached statement left on a row (a lookup that read one row) keeps the connection's read
  // snapshot open past COMMIT: pooled readers then saw the database as of their first read, and
  // the writer's WAL could never be checkpointed (1.7 GB WAL after 1M entries). Resetting every
  // cached statement whenever a transaction ends lets the next BEGIN take a fresh snapshot.
  // tryReset: sqlite3_reset returns the error of a statement's failed last step, which that step
  // already reported; SQLiteCpp's reset() would throw it again, out of rollback() before the
  // ROLLBACK ran (the transaction stayed open) or out of the statement's next, unrelated use.
  void reset_statements() {
    for (auto& [sql, statement] : cache_) (void)statement->tryReset();
    reminders_.reset_statements();
  }

  // A reusable prepared statement, reset and unbound before each use.
  SQLite::Statement& stmt(const std::string& sql) {
    auto it = cache_.find(&sql);
    if (it == cache_.end()) {
      it = cache_.emplace(&sql, std::make_unique<SQLite::Statement>(db_, sql)).first;
    }
    auto& s = *it->second;
    (void)s.tryReset();  // see reset_statements: a failed last step must not throw here
    s.clearBindings();
    return s;
  }

  std::vector<std::string> member_list(const std::string& sql, TimePoint t) {
    auto& s = bound(stmt(sql), t);
    std::vector<std::string> out;
    while (s.executeStep()) out.push_back(s.getColumn(0).getString());
    return out;
  }

  static ApiKeyRow read_api_key(SQLite::Statement& s) {
    return ApiKeyRow{s.getColumn(0).getString(), s.getColumn(1).getString(), blob(s.getColumn(2)),
                     from_secs(s.getColumn(3).getInt64()), opt_time(s.getColumn(4))};
  }

  static void bind_order(SQLite::Statement& s, const OrderRow& r) {
    put(s, 1, r.order_id);
    put(s, 2, r.member_id);
    put(s, 3, r.amount_minor);
    put(s, 4, r.currency);
    put(s, 5, r.occurred_at);
    put(s, 6, r.store_id);
    put(s, 7, r.base_points);
    put(s, 8, r.earned_points);
    put(s, 9, r.bonus_points);
    put(s, 10, r.earn_entry_id);
    put(s, 11, r.earn_lot_id);
    put(s, 12, r.bonus_entry_id);
    put(s, 13, r.refunded_minor);
    put(s, 14, r.reversed_due);
    put(s, 15, r.base_reversed);
    put(s, 16, r.bonus_reversed);
  }

  SQLite::Database db_;
  std::unordered_map<const std::string*, std::unique_ptr<SQLite::Statement>> cache_;
  SqliteReminderStore reminders_{db_};
  SqliteReportStore reports_{db_};
  int wal_frames_ = 0;  // the WAL's length after this connection's last commit (its WAL hook)
  std::uint64_t wal_commits_ = 0;  // commits that wrote WAL frames (its WAL hook)
  // How long a forced RESTART (checkpoint_passive) may hold the write lock waiting (retry_soon).
  std::chrono::milliseconds forced_restart_wait_{100};

  const std::string sql_begin_ = "BEGIN";
  const std::string sql_begin_immediate_ = "BEGIN IMMEDIATE";
  // The descriptor SQLite's unix VFS holds for this connection's database file, or -1. A
  // descriptor of our own would not do: closing it would drop every POSIX lock this process holds
  // on the file, SQLite's included (sqlite.org/howtocorrupt.html, 2.2). SQLite has no interface
  // for it, so it is read from the head of the VFS's file object (struct unixFile in sqlite3.c:
  // io methods, VFS, inode info, descriptor, unchanged since 3.7) and used only if that object
  // belongs to the unix VFS and the descriptor is this database file; otherwise -1, and the
  // caller goes without. The descriptor lives as long as this connection; it is never closed here.
  int database_fd() {
    if (database_fd_checked_) return database_fd_;
    database_fd_checked_ = true;
    struct UnixFileHead {
      const sqlite3_io_methods* methods;
      sqlite3_vfs* vfs;
      void* inode;
      int fd;
    };
    sqlite3_file* file = nullptr;
    if (sqlite3_file_control(db_.getHandle(), "main", SQLITE_FCNTL_FILE_POINTER, &file) !=
            SQLITE_OK ||
        file == nullptr || file->pMethods == nullptr) {
      return -1;  // in memory
    }
    // Only the four fields: a file object of another VFS may be smaller than the struct.
    constexpr std::size_t head_bytes = offsetof(UnixFileHead, fd) + sizeof(int);
    static_assert(sizeof(void*) != 8 || offsetof(UnixFileHead, fd) == 24);
    UnixFileHead head{};
    std::memcpy(&head, file, head_bytes);
    sqlite3_vfs* unix_vfs = sqlite3_vfs_find("unix");
    if (unix_vfs == nullptr || head.vfs != unix_vfs || head.fd < 0) return -1;
    const char* path = sqlite3_db_filename(db_.getHandle(), "main");
    struct stat by_fd {};
    struct stat by_path {};
    if (path == nullptr || ::fstat(head.fd, &by_fd) != 0 || ::stat(path, &by_path) != 0 ||
        !S_ISREG(by_fd.st_mode) || by_fd.st_dev != by_path.st_dev ||
        by_fd.st_ino != by_path.st_ino) {
      return -1;
    }
    database_fd_ = head.fd;
    return database_fd_;
  }
  bool database_fd_checked_ = false;
  int database_fd_ = -1;

  [[noreturn]] static void throw_checkpoint_failure(int rc) {
    const std::string what = std::string("wal checkpoint failed: ") + sqlite3_errstr(rc);
    if ((rc & 0xff) == SQLITE_IOERR) throw StorageFailure(what);
    throw std::runtime_error(what);
  }

  bool no_checkpoint_at_commit_ = false;  // take_over_wal_restarts() replaced SQLite's WAL hook

  // Returns whether the WAL's sync was deferred (owed by the caller).
  bool commit_with(WalSyncMode mode) {
    reset_statements();
    CoalescedWalCommit coalesced(db_.getHandle(), mode);
    try {
      stmt(sql_commit_).exec();
    } catch (const SQLite::Exception& e) {
      // An I/O error in COMMIT (a failed sync or write of the WAL): pages may be lost for good.
      if ((e.getExtendedErrorCode() & 0xff) == SQLITE_IOERR) throw StorageFailure(e.what());
      throw;
    }
    if (!coalesced.committed()) {
      // Other connections could read frames not yet written: stop before anyone relies on them.
      std::fprintf(stderr, "encore: a COMMIT published WAL frames before writing them\n");
      std::abort();
    }
    return coalesced.sync_deferred();
  }

  const std::string sql_commit_ = "COMMIT";
  const std::string sql_savepoint_ = "SAVEPOINT op";
  const std::string sql_release_ = "RELEASE op";
  const std::string sql_member_ =
      std::string("SELECT ") + kMemberColumns + " FROM members WHERE member_id = ?";
  const std::string sql_insert_member_ =
      "INSERT INTO members (member_id, email, phone, locale, marketing_opt_in, enrolled_at, tier, "
      "tier_reached_at) VALUES (?,?,?,?,?,?,?,?)";
  const std::string sql_update_member_state_ =
      "UPDATE members SET balance=?, debt=?, tier=?, tier_reached_at=?, first_purchase_at=?, "
      "last_purchase_at=?, purchase_count=?, last_activity_at=? WHERE member_id=?";
  const std::string sql_update_member_contact_ =
      "UPDATE members SET email=?, phone=?, locale=?, marketing_opt_in=?, erased_at=? "
      "WHERE member_id=?";
  const std::string sql_open_lots_ = std::string("SELECT ") + kLotColumns +
                                     " FROM lots WHERE member_id = ? AND remaining > 0 ORDER BY id";
  const std::string sql_lot_ = std::string("SELECT ") + kLotColumns + " FROM lots WHERE id = ?";
  const std::string sql_insert_lot_ =
      "INSERT INTO lots (id, member_id, entry_id, original, remaining, earned_at, vests_at, "
      "expires_at, program_version) VALUES (?,?,?,?,?,?,?,?,?)";
  const std::string sql_set_lot_remaining_ = "UPDATE lots SET remaining = ? WHERE id = ?";
  const std::string sql_last_entry_ = "SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1";
  const std::string sql_insert_entry_ = std::string("INSERT INTO entries (") + kEntryColumns +
                                        ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  const std::string sql_entry_ =
      std::string("SELECT ") + kEntryColumns + " FROM entries WHERE id = ?";
  const std::string sql_member_entries_ = std::string("SELECT ") + kEntryColumns +
                                          " FROM entries WHERE member_id = ? AND id < ? "
                                          "ORDER BY id DESC LIMIT ?";
  const std::string sql_order_ =
      std::string("SELECT ") + kOrderColumns + " FROM orders WHERE order_id = ?";
  const std::string sql_insert_order_ = std::string("INSERT INTO orders (") + kOrderColumns +
                                        ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  const std::string sql_update_order_ = std::string("REPLACE INTO orders (") + kOrderColumns +
                                        ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
  const std::string sql_count_orders_ =
      "SELECT COUNT(*) FROM orders WHERE member_id = ? AND occurred_at >= ? AND occurred_at <= ?";
  const std::string sql_qualifying_ =
      "SELECT COALESCE(SUM(base_points - base_reversed), 0) FROM orders "
      "WHERE member_id = ? AND occurred_at > ? AND occurred_at <= ?";
  const std::string sql_insert_erasure_ =
      "INSERT INTO member_erasures (member_id, erased_at, actor, reason) VALUES (?, ?, ?, ?)";
  const std::string sql_qualifying_orders_ =
      "SELECT order_id, occurred_at, base_points - base_reversed FROM orders "
      "WHERE member_id = ? AND occurred_at > ? LIMIT ?";
  const std::string sql_refund_ =
      "SELECT refund_id, order_id, amount_minor, points_reversed, created_at FROM refunds "
      "WHERE refund_id = ?";
  const std::string sql_insert_refund_ =
      "INSERT INTO refunds (refund_id, order_id, amount_minor, points_reversed, created_at) "
      "VALUES (?,?,?,?,?)";
  const std::string sql_hold_ =
      std::string("SELECT ") + kHoldColumns + " FROM holds WHERE hold_id = ?";
  const std::string sql_open_holds_ =
      std::string("SELECT ") + kHoldColumns + " FROM holds WHERE member_id = ? AND state = 'open'";
  const std::string sql_insert_hold_ =
      "INSERT INTO holds (hold_id, member_id, points, order_id, state, created_at, expires_at) "
      "VALUES (?,?,?,?,?,?,?)";
  const std::string sql_close_hold_ =
      "UPDATE holds SET state=?, closed_at=?, captured_points=?, entry_id=? WHERE hold_id=?";
  const std::string sql_award_ =
      "SELECT 1 FROM promotion_awards WHERE member_id = ? AND promotion_id = ?";
  const std::string sql_insert_award_ =
      "INSERT INTO promotion_awards (member_id, promotion_id, order_id, entry_id) VALUES "
      "(?,?,?,?)";
  // The primary key's member_id prefix finds the member's few awards; order_id filters them.
  const std::string sql_awards_of_order_ =
      "SELECT entry_id FROM promotion_awards WHERE member_id = ? AND order_id = ? "
      "ORDER BY entry_id";
  const std::string sql_reversal_ = "SELECT reversal_entry_id FROM reversals WHERE entry_id = ?";
  const std::string sql_insert_reversal_ =
      "INSERT INTO reversals (entry_id, reversal_entry_id) VALUES (?,?)";
  const std::string sql_insert_tier_change_ =
      "INSERT INTO tier_changes (member_id, from_tier, to_tier, changed_at, qualifying_points, "
      "reason) VALUES (?,?,?,?,?,?)";
  const std::string sql_tier_changes_ =
      "SELECT from_tier, to_tier, changed_at, qualifying_points, reason FROM tier_changes "
      "WHERE member_id = ? ORDER BY id";
  const std::string sql_members_expired_lots_ =
      "SELECT DISTINCT member_id FROM lots WHERE remaining > 0 AND expires_at IS NOT NULL "
      "AND expires_at <= ? ORDER BY member_id";
  const std::string sql_members_inactive_ =
      // Without any activity the inactivity clock starts at enrolment (lot_expiry).
      "SELECT m.member_id FROM members m "
      "WHERE COALESCE(m.last_activity_at, m.enrolled_at) <= ? AND EXISTS "
      "(SELECT 1 FROM lots l WHERE l.member_id = m.member_id AND l.remaining > 0) "
      "ORDER BY m.member_id";
  const std::string sql_members_stale_holds_ =
      "SELECT DISTINCT member_id FROM holds WHERE state = 'open' AND expires_at <= ? "
      "ORDER BY member_id";
  const std::string sql_all_members_ = "SELECT member_id FROM members ORDER BY member_id";
  const std::string sql_member_ids_after_ =
      "SELECT member_id FROM members WHERE member_id > ? ORDER BY member_id LIMIT ?";
  const std::string sql_ledger_totals_ =
      "SELECT COUNT(*), COALESCE(SUM(balance), 0), COALESCE(SUM(debt), 0) FROM members";
  const std::string sql_api_key_ =
      "SELECT name, role, key_hash, created_at, revoked_at FROM api_keys WHERE name = ?";
  const std::string sql_api_keys_ =
      "SELECT name, role, key_hash, created_at, revoked_at FROM api_keys ORDER BY name";
  const std::string sql_insert_api_key_ =
      "INSERT INTO api_keys (name, role, key_hash, created_at) VALUES (?,?,?,?)";
  const std::string sql_revoke_api_key_ =
      "UPDATE api_keys SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL";
  const std::string sql_idempotency_ =
      "SELECT request_hash, status, body, created_at FROM idempotency "
      "WHERE key_name = ? AND idem_key = ?";
  const std::string sql_insert_idempotency_ =
      "INSERT INTO idempotency (key_name, idem_key, request_hash, status, body, created_at) "
      "VALUES (?,?,?,?,?,?)";
  // Oldest first through idempotency_by_age, at most `limit` rows: one short write at a time.
  const std::string sql_purge_idempotency_ =
      "DELETE FROM idempotency WHERE (key_name, idem_key) IN "
      "(SELECT key_name, idem_key FROM idempotency WHERE created_at < ? "
      "ORDER BY created_at LIMIT ?)";
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& path, OpenMode mode) {
  return std::make_unique<SqliteStore>(path, mode);
}

int sqlite_schema_version(const std::string& path) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet("PRAGMA user_version").getInt();
}

int latest_schema_version() {
  return migrations().empty() ? 0 : migrations().back().version;
}

std::string encode_lots(const std::vector<LotDraw>& lots) {
  std::string out;
  for (const auto& d : lots) {
    if (!out.empty()) out += ',';
    out += std::to_string(d.lot_id);
    out += ':';
    out += std::to_string(d.points);
  }
  return out;
}

std::vector<LotDraw> decode_lots(std::string_view text) {
  std::vector<LotDraw> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto item = text.substr(0, comma);
    auto colon = item.find(':');
    if (colon == std::string_view::npos) throw std::runtime_error("bad lots encoding");
    LotDraw d;
    auto a = std::from_chars(item.data(), item.data() + colon, d.lot_id);
    auto b = std::from_chars(item.data() + colon + 1, item.data() + item.size(), d.points);
    if (a.ec != std::errc{} || b.ec != std::errc{}) throw std::runtime_error("bad lots encoding");
    out.push_back(d);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace encore
