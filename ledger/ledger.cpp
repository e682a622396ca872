#include "ledger/ledger.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "ledger/checkpoint_cadence.h"
#include "ledger/earn_plan.h"
#include "ledger/member_cache.h"
#include "ledger/member_state.h"
#include "ledger/posting.h"
#include "ledger/rules.h"

namespace encore {

// Read-only connections, handed out one per concurrent reader. Bounded by the number of threads
// that read at once (the server's worker threads), so it never grows without limit.
class Ledger::ReadPool {
 public:
  explicit ReadPool(std::string path) : path_(std::move(path)) {}

  template <class F>
  auto with(F&& fn) {
    std::unique_ptr<Store> store;
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        store = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!store) store = open_sqlite_store(path_, OpenMode::read_only);
    struct Return {
      ReadPool& pool;
      std::unique_ptr<Store>& store;
      ~Return() {
        store->end_read();
        std::lock_guard lock(pool.mutex_);
        pool.idle_.push_back(std::move(store));
      }
    } give_back{*this, store};
    store->begin_read();
    return fn(*store);
  }

 private:
  std::string path_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Store>> idle_;
};

// Runs PASSIVE checkpoints on its own read-write connection, off the writer's commit path.
class Ledger::Checkpointer {
 public:
  Checkpointer(const std::string& path, std::chrono::milliseconds interval, int lazy_below_frames,
               int force_restart_frames, WalResetGuard& guard, Ledger& ledger)
      : ledger_(ledger),
        store_(open_sqlite_store(path, OpenMode::read_write)),
        interval_(interval),
        lazy_below_frames_(lazy_below_frames),
        force_restart_frames_(force_restart_frames),
        guard_(guard),
        thread_([this] { run(); }) {}
  ~Checkpointer() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
    if (ledger_.durability_lost()) store_->keep_wal_on_close();
  }
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  std::uint64_t writebacks() const { return writebacks_.load(std::memory_order_relaxed); }
  Ledger::ForcedRestarts forced_restarts() const {
    return {forced_attempts_.load(std::memory_order_relaxed),
            forced_gave_up_.load(std::memory_order_relaxed)};
  }

 private:
  void run() {
    int previous_frames = -1;
    auto next_forced_restart = std::chrono::steady_clock::time_point::min();
    std::unique_lock lock(mutex_);
    while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
      const int frames = guard_.writer_wal_frames();
      const bool due = background_pass_due(frames, previous_frames, lazy_below_frames_);
      previous_frames = frames;
      // After a storage failure the WAL may hold frames that never reached the disk: copying
      // them into the database file could leave it newer than the WAL a recovery replays.
      if (!due || ledger_.durability_lost()) continue;
      lock.unlock();
      try {
        const bool may_force = std::chrono::steady_clock::now() >= next_forced_restart;
        int copied_frames = written_back_copied_frames_;
        guard_.run([&] {
          const WalCheckpoint done =
              store_->checkpoint_passive(may_force ? force_restart_frames_ : 0);
          if (done.ran) copied_frames = done.copied_frames;
          if (done.restart_tried) forced_attempts_.fetch_add(1, std::memory_order_relaxed);
          if (done.restart_gave_up) {
            forced_gave_up_.fetch_add(1, std::memory_order_relaxed);
            next_forced_restart = std::chrono::steady_clock::now() + forced_restart_spacing;
          }
          return done;
        });
        // After the guard is released, so the writer's restart copy never waits for it.
        if (copied_frames != written_back_copied_frames_) {
          if (store_->start_database_writeback()) {
            writebacks_.fetch_add(1, std::memory_order_relaxed);
          }
          written_back_copied_frames_ = copied_frames;
        }
      } catch (const StorageFailure& e) {
        // A failed sync (of the WAL or the database) may have lost pages: stop (durability_lost).
        ledger_.mark_durability_lost(e.what());
      } catch (const std::exception&) {
        // Not an I/O error (SQLITE_BUSY, NOMEM): nothing lost, the next tick retries.
      }
      lock.lock();
    }
  }

  // A forced RESTART that gave up blocked writes for its bounded wait (checkpoint_passive); the
  // next one waits this long, so a long reader costs writes at most ~10% of their time.
  static constexpr std::chrono::seconds forced_restart_spacing{1};

  std::atomic<std::uint64_t> writebacks_{0};
  int written_back_copied_frames_ = -1;  // the backfill the last write-back covered (run())
  std::atomic<std::uint64_t> forced_attempts_{0};
  std::atomic<std::uint64_t> forced_gave_up_{0};
  Ledger& ledger_;
  std::unique_ptr<Store> store_;
  const std::chrono::milliseconds interval_;
  const int lazy_below_frames_;
  const int force_restart_frames_;
  WalResetGuard& guard_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;  // last: starts once everything above is ready
};

Ledger::Ledger(std::string path, Program program, const Clock& clock)
    : path_(std::move(path)), program_(std::move(program)), clock_(clock) {}

Ledger::~Ledger() {
  stopping_ = true;
  if (warmer_.joinable()) warmer_.join();
  // First: a pass still running could meet the failure after the check below. Its connection
  // keeps the WAL on close itself (Checkpointer::~Checkpointer).
  checkpointer_.reset();
  if (durability_lost() && write_store_) write_store_->keep_wal_on_close();
}

void Ledger::start_cache_warmup() {
  if (!cache_ || warmer_.joinable()) return;
  warmer_ = std::thread([this] {
    constexpr std::size_t chunk = 256;
    try {
      std::vector<std::string> ids;
      with_reader([&](Store& s) { ids = s.all_member_ids(); });
      for (std::size_t i = 0; i < ids.size() && !stopping_; i += chunk) {
        if (cache_->stats().members >= cache_->capacity()) break;
        const auto seen_seq = cache_->committed_seq();  // before the chunk's snapshot opens
        const auto now = clock_.now();
        with_reader([&](Store& s) {
          for (std::size_t j = i; j < std::min(ids.size(), i + chunk); ++j) {
            auto state = load_member_state(s, ids[j], program_, now);
            if (!state) continue;
            normalise(*state);
            cache_->insert_if_absent(*state, seen_seq);
          }
        });
      }
    } catch (const std::exception&) {
      // Warming is an optimisation: reads fill the cache on their own.
    }
  });
}

std::unique_ptr<Ledger> Ledger::open(const std::string& path, Program program, const Clock& clock) {
  if (program.tiers.empty() || program.zone == nullptr) {
    throw std::invalid_argument("Ledger::open needs a validated Program");
  }
  std::unique_ptr<Ledger> ledger(new Ledger(path, std::move(program), clock));
  ledger->write_store_ = open_sqlite_store(path, OpenMode::read_write);
  ledger->writer_ = std::make_unique<Writer>(*ledger->write_store_, ledger->program_, clock);
  ledger->writer_->load_chain_head();
  ledger->readers_ = std::make_unique<ReadPool>(path);
  return ledger;
}

void Ledger::write_batch(const std::function<void(Writer&)>& batch) {
  write_batch_with(batch, false);
}

bool Ledger::write_batch_deferring_sync(const std::function<void(Writer&)>& batch) {
  return write_batch_with(batch, true);
}

bool Ledger::sync_wal() {
  if (durability_lost()) return false;
  WalFileSync* wal = wal_sync_ready_.load(std::memory_order_acquire);
  // No deferred batch yet: every commit so far synced its own WAL.
  if (wal == nullptr || wal->sync()) return true;
  mark_durability_lost(wal->failure());
  return false;
}

std::string Ledger::durability_failure() const {
  std::lock_guard lock(durability_mutex_);
  return durability_failure_;
}

void Ledger::mark_durability_lost(const std::string& why) {
  bool first = false;
  {
    std::lock_guard lock(durability_mutex_);
    if (durability_failure_.empty()) {
      durability_failure_ = why.empty() ? "storage failure" : why;
      first = true;
    }
  }
  durability_lost_.store(true, std::memory_order_release);
  if (first && durability_lost_handler_) durability_lost_handler_(durability_failure());
}

bool Ledger::write_batch_with(const std::function<void(Writer&)>& batch, bool defer_sync) {
  std::lock_guard lock(write_mutex_);
  if (durability_lost()) {
    throw StorageFailure("writes are stopped after a storage failure: " + durability_failure());
  }
  if (defer_sync && !wal_sync_) {
    // Before the first commit whose sync is deferred, so the descriptor sees every later
    // write-back error (wal_file_sync.h). The writer's connection has the WAL open by now.
    const std::string wal_path = write_store_->wal_path();
    if (!wal_path.empty()) {
      try {
        wal_sync_ = std::make_unique<WalFileSync>(wal_path);
        wal_sync_ready_.store(wal_sync_.get(), std::memory_order_release);
      } catch (const std::exception& e) {
        // Out of descriptors, say. This batch's COMMIT syncs itself instead: slower, never less
        // durable. The next batch tries to open it again.
        undeferred_batches_.fetch_add(1, std::memory_order_relaxed);
        if (undeferred_handler_) undeferred_handler_(e.what());
      }
    }
  }
  if (batch_) batch_->clear();
  WalResetGuard::Seen guard_seen;
  if (wal_restart_frames_ > 0) {
    try {
      if (writer_copy_due(write_store_->wal_frames(), wal_guard_.backfilled_frames(),
                          wal_restart_frames_)) {
        wal_guard_.try_run([&] { return write_store_->restart_wal_if_long(wal_restart_frames_); });
      }
    } catch (const StorageFailure& e) {
      mark_durability_lost(e.what());
      throw;
    } catch (const std::exception&) {
      // The WAL keeps every commit, so a failed copy loses nothing and must not fail this batch;
      // the next batch tries again, and the background pass has its own fallback.
    }
    guard_seen = wal_guard_.before_write();  // read before BEGIN (wal_reset_guard.h)
  }
  const std::uint64_t wal_commits_before = write_store_->wal_commits();
  write_store_->begin_write();
  bool sync_owed = false;
  try {
    batch(*writer_);
    if (defer_sync && wal_sync_) {
      sync_owed = write_store_->commit_deferring_sync();
    } else {
      write_store_->commit();
    }
    wal_guard_.committed(guard_seen, write_store_->wal_commits() != wal_commits_before,
                         write_store_->wal_frames());
  } catch (...) {
    write_store_->rollback();
    writer_->load_chain_head();  // the in-memory chain head must match the file again
    // Nothing is published: the cache still matches the file as it was before the batch.
    if (batch_) batch_->clear();
    try {
      throw;
    } catch (const StorageFailure& e) {
      mark_durability_lost(e.what());  // the COMMIT's own sync or write failed on the disk
      throw;
    }
  }
  if (cache_) publish_batch();
  return sync_owed;
}

void Ledger::enable_member_cache(std::size_t capacity_members, bool self_check) {
  std::lock_guard lock(write_mutex_);
  if (cache_) return;
  cache_ = std::make_unique<MemberCache>(capacity_members);
  batch_ = std::make_unique<BatchMembers>();
  batch_->cache = cache_.get();
  self_check_ = self_check;
  writer_->set_batch(batch_.get());
}

MemberCache::Stats Ledger::cache_stats() const {
  if (!cache_) return {};
  return cache_->stats();
}

// After a commit, with the write lock held: the batch's member states become the cache's.
void Ledger::publish_batch() {
  // The batch is committed: whatever goes wrong now must not be reported as a failed write, and
  // the cache must not keep a state the commit changed. Emptying it is always correct.
  try {
    publish_staged();
  } catch (...) {
    batch_->clear();
    cache_->publish_clear();
  }
}

void Ledger::publish_staged() {
  // A batch that touched more members than this (an expiry run over a large program) empties
  // the cache instead: readers refill it.
  constexpr std::size_t max_dropped = 65536;
  if (batch_->incomplete) {
    batch_->clear();
    cache_->publish_clear();
    return;
  }
  std::vector<MemberState> states;
  states.reserve(batch_->staged.size());
  for (auto& [member_id, state] : batch_->staged) states.push_back(std::move(state));
  std::vector<std::string> dropped(batch_->dropped.begin(), batch_->dropped.end());
  batch_->clear();
  if (dropped.size() > max_dropped) {
    cache_->publish_clear();
    return;
  }
  if (self_check_) {
    auto copy = states;
    cache_->publish(std::move(states), dropped);
    self_check(copy);
  } else {
    cache_->publish(std::move(states), dropped);
  }
}

void Ledger::self_check(const std::vector<MemberState>& published) {
  // In a read transaction of its own, so no statement keeps a snapshot open afterwards.
  write_store_->begin_read();
  struct End {
    Store& store;
    ~End() { store.end_read(); }
  } end{*write_store_};
  for (const auto& cached : published) {
    const auto& id = cached.row.member_id;
    auto stored = load_member_state(*write_store_, id);
    bool same = stored.has_value();
    if (same && cached.orders_after) {
      stored->orders_after = cached.orders_after;
      stored->orders = write_store_->qualifying_orders(id, *cached.orders_after, 1'000'000);
    } else if (same) {
      stored->orders_after.reset();
    }
    if (same) {
      MemberState a = cached;
      normalise(a);
      normalise(*stored);
      same = a.row == stored->row && a.lots == stored->lots && a.holds == stored->holds &&
             a.orders_after == stored->orders_after && a.orders == stored->orders;
    }
    if (!same) {
      std::fprintf(stderr,
                   "member cache self-check: the published state of '%s' differs from "
                   "the database\n",
                   id.c_str());
      std::abort();
    }
  }
}

void Ledger::start_background_checkpoints(std::chrono::milliseconds interval,
                                          int wal_restart_frames) {
  if (wal_restart_frames <= 0) {
    throw std::invalid_argument("start_background_checkpoints: wal_restart_frames must be > 0");
  }
  if (checkpointer_) return;
  // 3/4: passes wait while the WAL is shorter and growing (checkpoint_cadence.h). 4x: restarts
  // by the writer failed for three more thresholds' worth of WAL.
  checkpointer_ = std::make_unique<Checkpointer>(path_, interval, wal_restart_frames / 4 * 3,
                                                 4 * wal_restart_frames, wal_guard_, *this);
  std::lock_guard lock(write_mutex_);
  write_store_->take_over_wal_restarts();
  wal_restart_frames_ = wal_restart_frames;
}

std::uint64_t Ledger::background_writebacks() const {
  return checkpointer_ ? checkpointer_->writebacks() : 0;
}

Ledger::ForcedRestarts Ledger::forced_restarts() const {
  return checkpointer_ ? checkpointer_->forced_restarts() : ForcedRestarts{};
}

void Ledger::with_reader(const std::function<void(Store&)>& fn) const {
  readers_->with([&](Store& s) {
    fn(s);
    return 0;
  });
}

namespace {
Error unknown_member(const std::string& member_id) {
  return make_error(ErrorCode::not_found, "member_id", "no member '" + member_id + "'");
}
}  // namespace

// A member's state as of now, from the cache when it holds the member, else from a snapshot
// (then offered to the cache). `view(state, qualifying, now)` computes the answer.
template <class T, class View>
Result<T> Ledger::read_member(const std::string& member_id, View view) const {
  const auto now = clock_.now();
  std::uint64_t seen_seq = 0;
  if (cache_) {
    if (auto cached = cache_->find(member_id)) {
      if (auto q = qualifying_from_state(*cached, program_, now)) return view(*cached, *q, now);
    }
    seen_seq = cache_->committed_seq();  // before the snapshot opens (MemberCache's rules)
  }
  return readers_->with([&](Store& s) -> Result<T> {
    auto state = load_member_state(s, member_id, program_, now);
    if (!state) return unknown_member(member_id);
    T out = view(*state, qualifying_points_at(s, program_, *state, now), now);
    if (cache_) {
      normalise(*state);
      cache_->insert_if_absent(*state, seen_seq);
    }
    return out;
  });
}

Result<MemberProfile> Ledger::member(const std::string& member_id) const {
  return read_member<MemberProfile>(
      member_id, [&](const MemberState& state, Points qualifying, TimePoint now) {
        return member_profile(state, program_, now, qualifying);
      });
}

Result<BalanceView> Ledger::balance(const std::string& member_id) const {
  return read_member<BalanceView>(member_id,
                                  [&](const MemberState& state, Points qualifying, TimePoint now) {
                                    return balance_view(state, program_, now, qualifying);
                                  });
}

Result<EntriesPage> Ledger::entries(const std::string& member_id,
                                    std::optional<std::int64_t> cursor, std::size_t limit) const {
  limit = std::clamp<std::size_t>(limit, 1, max_entries_page);
  return readers_->with([&](Store& s) -> Result<EntriesPage> {
    if (!s.member(member_id)) return unknown_member(member_id);
    EntriesPage page;
    // One extra row tells whether another page exists.
    page.entries = s.member_entries(member_id, cursor, limit + 1);
    if (page.entries.size() > limit) {
      page.entries.resize(limit);
      page.next_cursor = page.entries.back().id;
    }
    return page;
  });
}

Result<std::vector<TierChange>> Ledger::tier_history(const std::string& member_id) const {
  return readers_->with([&](Store& s) -> Result<std::vector<TierChange>> {
    if (!s.member(member_id)) return unknown_member(member_id);
    return s.tier_changes(member_id);
  });
}

Result<Quote> Ledger::quote(const std::string& member_id, std::int64_t amount_minor) const {
  if (amount_minor < 1 || amount_minor > max_amount_minor) {
    return make_error(ErrorCode::invalid_request, "amount_minor",
                      "must be an integer from 1 to 2^53-1");
  }
  return readers_->with([&](Store& s) -> Result<Quote> {
    auto row = s.member(member_id);
    if (!row) return unknown_member(member_id);
    const auto now = clock_.now();
    auto tier = effective_tier(s, program_, *row, now, nullptr);
    auto first = row->first_purchase_at.value_or(now);
    auto plan = plan_earn(s, program_, *row, tier, amount_minor, now, first, false);
    if (!plan) return plan.error();
    Quote q;
    q.earn_points = plan->earn_points;
    q.tier = program_.tiers[tier].name;
    q.tier_multiplier_bp = plan->tier_multiplier_bp;
    q.campaign_multiplier_bp = plan->campaign_multiplier_bp;
    if (plan->campaign_id) q.promotions.push_back(*plan->campaign_id);
    for (const auto& b : plan->bonuses) {
      q.bonus_points += b.points;
      q.promotions.push_back(b.promotion_id);
    }
    q.points = q.earn_points + q.bonus_points;
    return q;
  });
}

std::optional<HoldView> Ledger::hold(const std::string& hold_id) const {
  auto view = readers_->with([&](Store& s) { return s.hold(hold_id); });
  // A hold past its ttl is expired even before a write closes it (a refused capture rolls its
  // closing back), just as balance() shows it no longer held.
  if (view && view->state == HoldState::open && view->expires_at <= clock_.now()) {
    view->state = HoldState::expired;
  }
  return view;
}

std::vector<ApiKeyRow> Ledger::api_keys() const {
  return readers_->with([&](Store& s) { return s.api_keys(); });
}

}  // namespace encore
