// The ledger facade: the one entry point for the API server and the CLI.
//
// Writes go through a single Writer inside one SQLite transaction (BEGIN IMMEDIATE ... COMMIT,
// WAL, synchronous=FULL): `write_batch` is group commit, with each operation isolated by a
// savepoint so a refused operation leaves no trace while its neighbours commit. Reads use a pool
// of read-only connections and never wait for the writer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "ledger/clock.h"
#include "ledger/member_cache.h"
#include "ledger/program.h"
#include "ledger/result.h"
#include "ledger/store.h"
#include "ledger/types.h"
#include "ledger/wal_file_sync.h"
#include "ledger/wal_reset_guard.h"

namespace encore {

class Writer;
class Posting;
struct BatchMembers;

class Ledger {
 public:
  // Opens (creating and migrating) the database at `path`. Throws on I/O errors.
  static std::unique_ptr<Ledger> open(const std::string& path, Program program, const Clock& clock);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  const Program& program() const { return program_; }
  const Clock& clock() const { return clock_; }
  const std::string& path() const { return path_; }

  // Group commit: runs `batch` in ONE transaction and commits (fsync) before returning.
  // Throws (after rolling back everything) when the commit itself fails.
  void write_batch(const std::function<void(Writer&)>& batch);

  // Pipelined durability: like write_batch, but returns once the batch is committed and visible
  // to every reader, before its WAL sync. Returns true when the sync is owed: the caller must not
  // acknowledge the batch to anyone before sync_wal() returned true. The next batch may start
  // meanwhile; a WAL only recovers up to its first lost frame, so batches become durable in order.
  bool write_batch_deferring_sync(const std::function<void(Writer&)>& batch);
  // fdatasyncs the WAL: every batch that write_batch_deferring_sync returned before this call is
  // durable when it returns true. False once durability_lost(). Safe on any thread once the
  // caller has seen the batch's write_batch_deferring_sync return (through its own
  // synchronisation).
  bool sync_wal();
  // A WAL sync or a background checkpoint failed on the disk. For ever after (until the process
  // restarts) nothing can be called durable: every write throws StorageFailure, no checkpoint
  // copies the WAL into the database (it might copy pages whose WAL frames never reached the
  // disk), and closing the connections does not checkpoint either. docs/operations.md says what
  // to do. Thread-safe.
  bool durability_lost() const { return durability_lost_.load(std::memory_order_acquire); }
  // Why, once durability_lost(); empty before.
  std::string durability_failure() const;
  // Called once, on the thread that found the failure, when durability is lost (the server logs
  // it). Set before the first write.
  void on_durability_lost(std::function<void(const std::string& why)> handler) {
    durability_lost_handler_ = std::move(handler);
  }

  // Batches that asked to defer their sync but synced inside their own COMMIT, because the WAL
  // could not be opened for sync_wal (e.g. out of file descriptors). Thread-safe.
  std::uint64_t undeferred_batches() const {
    return undeferred_batches_.load(std::memory_order_relaxed);
  }
  // Called with the reason on each such batch, on the writer's thread. Set before the first write.
  void on_undeferred_batch(std::function<void(const std::string& why)> handler) {
    undeferred_handler_ = std::move(handler);
  }

  // One write in its own transaction; returns what `op` returns.
  template <class F>
  auto write(F&& op) -> decltype(op(std::declval<Writer&>())) {
    std::optional<decltype(op(std::declval<Writer&>()))> out;
    write_batch([&](Writer& w) { out.emplace(op(w)); });
    return std::move(*out);
  }

  // Reads: thread-safe, each on a pooled read-only connection in one snapshot.
  Result<MemberProfile> member(const std::string& member_id) const;
  Result<BalanceView> balance(const std::string& member_id) const;
  Result<EntriesPage> entries(const std::string& member_id, std::optional<std::int64_t> cursor,
                              std::size_t limit) const;
  Result<std::vector<TierChange>> tier_history(const std::string& member_id) const;
  Result<Quote> quote(const std::string& member_id, std::int64_t amount_minor) const;
  std::optional<HoldView> hold(const std::string& hold_id) const;
  std::vector<ApiKeyRow> api_keys() const;

  // Runs `fn` with a pooled read-only store (for reports and other read-only tools).
  void with_reader(const std::function<void(Store&)>& fn) const;

  // Takes WAL checkpoints off the commit path (for the long-running server). By default SQLite
  // checkpoints inside COMMIT every 1000 WAL pages, copying pages into the database file and
  // fsyncing it while the next batch waits. Instead, a background thread with its own connection
  // runs a PASSIVE checkpoint every `interval` (skipped while the WAL is growing and shorter than
  // 3/4 of `wal_restart_frames`: checkpoint_cadence.h), which blocks neither the writer nor
  // readers; once
  // the WAL holds more than `wal_restart_frames` pages, the writer, between two batches, copies
  // the few pages that pass has not reached yet, so its next batch starts the WAL over without
  // anyone waiting on a lock. That needs a moment with no reader on the WAL; past 4x the
  // threshold (readers kept overlapping), the background pass runs a RESTART checkpoint that
  // waits for them instead. No checkpoint starts while the writer may be starting the WAL over
  // (SQLite's WAL-reset bug, wal_reset_guard.h). One-shot tools keep the default. Call once,
  // before the first write; `wal_restart_frames` must be > 0.
  static constexpr int default_wal_restart_frames = 16384;  // 64 MiB of 4 KiB pages
  void start_background_checkpoints(std::chrono::milliseconds interval,
                                    int wal_restart_frames = default_wal_restart_frames);

  // Keeps up to `capacity_members` members' live state in memory (ledger/member_cache.h): the
  // writer loads them without queries and balance/member reads are served without SQLite. With
  // `self_check`, every published state is compared with the database after each commit and a
  // difference aborts the process (tests). Call once, before the first write.
  void enable_member_cache(std::size_t capacity_members, bool self_check);
  // Fills the cache from the database in the background (up to its capacity, in chunks of one
  // short read snapshot each), so the first reads after a restart do not all miss. Stops at
  // destruction.
  void start_cache_warmup();
  // Hits, misses and size; all zero without a cache.
  MemberCache::Stats cache_stats() const;
  // The WAL's length in pages after the writer's last commit (0 before background checkpoints
  // start). It grows to default_wal_restart_frames under load, then starts over.
  int wal_frames() const { return wal_guard_.writer_wal_frames(); }
  // Forced RESTART checkpoints of the background pass (WAL past 4x its restart length because
  // readers kept it from starting over): tried, and given up on after the bounded wait.
  struct ForcedRestarts {
    std::uint64_t attempts = 0;
    std::uint64_t gave_up = 0;
  };
  ForcedRestarts forced_restarts() const;
  // Write-backs of the database file the background pass started after copying frames, so that
  // the writer's sync before a WAL restart has little left to write
  // (Store::start_database_writeback).
  std::uint64_t background_writebacks() const;

 private:
  Ledger(std::string path, Program program, const Clock& clock);
  class ReadPool;
  class Checkpointer;
  bool write_batch_with(const std::function<void(Writer&)>& batch, bool defer_sync);
  void mark_durability_lost(const std::string& why);
  void publish_batch();
  void publish_staged();
  template <class T, class View>
  Result<T> read_member(const std::string& member_id, View view) const;
  void self_check(const std::vector<MemberState>& published);

  std::string path_;
  Program program_;
  const Clock& clock_;
  std::unique_ptr<Store> write_store_;
  std::unique_ptr<Writer> writer_;
  std::mutex write_mutex_;
  std::unique_ptr<ReadPool> readers_;
  std::unique_ptr<MemberCache> cache_;
  std::atomic<bool> stopping_{false};
  std::thread warmer_;  // joined first in ~Ledger
  std::unique_ptr<BatchMembers> batch_;
  bool self_check_ = false;
  int wal_restart_frames_ = 0;  // 0: SQLite checkpoints at commit (guarded by write_mutex_)
  WalResetGuard wal_guard_;     // checkpoints never overlap a WAL restart
  // Opened by the first write_batch_deferring_sync (under write_mutex_), read by sync_wal.
  std::unique_ptr<WalFileSync> wal_sync_;
  std::atomic<WalFileSync*> wal_sync_ready_{nullptr};
  std::atomic<bool> durability_lost_{false};
  std::atomic<std::uint64_t> undeferred_batches_{0};
  std::function<void(const std::string&)> undeferred_handler_;
  mutable std::mutex durability_mutex_;
  std::string durability_failure_;  // the first failure's reason (durability_mutex_)
  std::function<void(const std::string&)> durability_lost_handler_;
  std::unique_ptr<Checkpointer> checkpointer_;  // last: stopped before the stores close
};

// Valid only inside Ledger::write_batch. Every method is one isolated operation.
class Writer {
 public:
  Writer(Store& store, const Program& program, const Clock& clock);

  Result<MemberProfile> enrol(const EnrolRequest& request, const Actor& actor);
  Result<MemberProfile> update_member(const std::string& member_id, const MemberPatch& patch);
  // `reason` (1-500 characters when given) and the actor are recorded in member_erasures.
  Result<MemberProfile> erase_member(const std::string& member_id,
                                     const std::optional<std::string>& reason, const Actor& actor);
  Result<PurchaseResult> purchase(const PurchaseRequest& request, const Actor& actor);
  Result<RefundResult> refund(const RefundRequest& request, const Actor& actor);
  Result<PostingResult> redeem(const RedemptionRequest& request, const Actor& actor);
  Result<PostingResult> create_hold(const HoldRequest& request, const Actor& actor);
  Result<PostingResult> capture_hold(const std::string& hold_id, std::optional<Points> points,
                                     const Actor& actor);
  Result<PostingResult> release_hold(const std::string& hold_id, const Actor& actor);
  Result<PostingResult> adjust(const AdjustRequest& request, const Actor& actor);
  Result<PostingResult> reverse_entry(std::int64_t entry_id, const std::string& reason,
                                      const Actor& actor);
  // Posts `expire` entries for lots expired by `as_of` (capped at now), closes stale holds and
  // applies due tier downgrades. With dry_run nothing is kept.
  Result<ExpiryRunResult> run_expiry(TimePoint as_of, bool dry_run, const Actor& actor);
  // run_expiry in pieces, so that a server can commit each piece on its own and let other writes
  // in between (a run over many members would otherwise hold the writer for seconds): the
  // members run_expiry looks at (sorted), then run_expiry limited to some of them.
  std::vector<std::string> expiry_candidates(TimePoint as_of);
  Result<ExpiryRunResult> expire_members(const std::vector<std::string>& member_ids,
                                         TimePoint as_of, bool dry_run, const Actor& actor);
  // Re-evaluates the tiers, now, of up to `limit` members whose id sorts after `after_member_id`
  // ("" for the first); `encore-admin tiers recompute` walks every member this way.
  Result<TierRecomputeChunk> recompute_tiers(const std::string& after_member_id, std::size_t limit);
  // The outcome stored under an idempotency key, read inside the batch transaction: it sees every
  // committed record and the batch's own. Read here rather than on a reader connection because
  // under writes every read transaction finds the WAL changed and drops its page cache (it also
  // unmapped its mmap until readers stopped mapping; docs/PERFORMANCE.md, 2026-12-02 evening);
  // the writer's cache stays warm.
  std::optional<IdempotencyRecord> idempotency(const std::string& key_name,
                                               const std::string& idem_key);
  void save_idempotency(const IdempotencyRecord& record);
  // Forgets up to `limit` idempotency records created before `older_than` (SPEC 5 keeps them
  // at least 30 days); returns how many. A retry of a forgotten key runs as a new request.
  Result<std::int64_t> purge_idempotency(TimePoint older_than, std::size_t limit);

  // Called by Ledger around a batch.
  void load_chain_head();
  // The batch's member bookkeeping (null: none, every load reads the store).
  void set_batch(BatchMembers* batch) { batch_ = batch; }
  // The batch's store, for modules with their own tables (the reminders outbox).
  Store& store() { return store_; }

 private:
  template <class T, class F>
  Result<T> isolated(F&& body);
  // After an operation's savepoint is released: its states go to the batch (never throws).
  void stage_released(Posting& posting) noexcept;

  Store& store_;
  const Program& program_;
  const Clock& clock_;
  std::int64_t last_id_ = 0;
  Sha256 last_hash_{};
  BatchMembers* batch_ = nullptr;
};

}  // namespace encore
