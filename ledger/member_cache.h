// An exact in-memory copy of recently used members' live state (row, open lots, open holds and
// the orders inside the tier window), so balance reads and the writer's member loads skip SQLite.
//
// Exactness rests on three rules:
// - Only the writer changes members, and after every commit it publishes the new state of each
//   member the batch touched (`publish`), before any client of that batch is answered.
// - A reader that missed loads the member from its own snapshot and offers it with the commit
//   sequence it observed BEFORE opening that snapshot (`insert_if_absent`). The offer is refused
//   when the member is already present (it can only be as new or newer) or when a commit after
//   that sequence touched a member of the same shard (the snapshot may predate it).
// - Entries are bounded (capacity, lots and orders per member); what does not fit is simply not
//   cached and is read from SQLite as before.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ledger/member_state.h"

namespace encore {

class MemberCache {
 public:
  using Entry = std::shared_ptr<const MemberState>;

  // A member with more open lots, open holds or window orders than this is never cached: its
  // copy would cost more than the queries it saves.
  static constexpr std::size_t max_items_per_member = max_window_orders;

  explicit MemberCache(std::size_t capacity_members);
  MemberCache(const MemberCache&) = delete;
  MemberCache& operator=(const MemberCache&) = delete;

  // Sequence number of the last published commit. Read it BEFORE opening a read snapshot.
  std::uint64_t committed_seq() const { return committed_seq_.load(std::memory_order_acquire); }

  Entry find(const std::string& member_id) const;

  // A reader's offer (see the header comment). Returns true when it was stored.
  bool insert_if_absent(const MemberState& state, std::uint64_t seen_seq);

  // The writer, after a commit: one new sequence number; each state replaces the cached one
  // (or is added), each id in `dropped` is removed (touched, but its state was not staged).
  void publish(std::vector<MemberState> states, const std::vector<std::string>& dropped);
  // The writer, after a commit that touched too many members to stage: empties the cache.
  void publish_clear();

  static bool cacheable(const MemberState& state);
  // Members it can hold: the capacity asked for, rounded up to a multiple of the shard count.
  std::size_t capacity() const { return capacity_per_shard_ * shard_count; }

  struct Stats {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::size_t members = 0;
  };
  Stats stats() const;

 private:
  static constexpr std::size_t shard_count = 64;
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry> members;
    std::uint64_t last_touched_seq = 0;  // newest commit that changed a member of this shard
  };
  Shard& shard_for(const std::string& member_id) const;
  void put(Shard& shard, Entry entry);  // shard.mutex held

  const std::size_t capacity_per_shard_;
  mutable std::array<Shard, shard_count> shards_;
  std::atomic<std::uint64_t> committed_seq_{0};
  mutable std::atomic<std::uint64_t> hits_{0};
  mutable std::atomic<std::uint64_t> misses_{0};
};

}  // namespace encore
