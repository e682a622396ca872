#include "ledger/member_cache.h"

#include <cassert>
#include <functional>

namespace encore {

MemberCache::MemberCache(std::size_t capacity_members)
    : capacity_per_shard_((capacity_members + shard_count - 1) / shard_count) {}

MemberCache::Shard& MemberCache::shard_for(const std::string& member_id) const {
  return shards_[std::hash<std::string>{}(member_id) % shard_count];
}

bool MemberCache::cacheable(const MemberState& state) {
  return state.orders_after.has_value() && state.lots.size() <= max_items_per_member &&
         state.holds.size() <= max_items_per_member && state.orders.size() <= max_items_per_member;
}

MemberCache::Entry MemberCache::find(const std::string& member_id) const {
  if (capacity_per_shard_ == 0) return nullptr;
  Shard& shard = shard_for(member_id);
  Entry out;
  {
    std::lock_guard lock(shard.mutex);
    auto it = shard.members.find(member_id);
    if (it != shard.members.end()) out = it->second;
  }
  (out ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
  return out;
}

void MemberCache::put(Shard& shard, Entry entry) {
  auto it = shard.members.find(entry->row.member_id);
  if (it != shard.members.end()) {
    it->second = std::move(entry);
    return;
  }
  if (shard.members.size() >= capacity_per_shard_) {
    // Full: drop an arbitrary member (the first of the hash order). Dropping is always safe;
    // a later offer for it passes the same sequence check as any other.
    shard.members.erase(shard.members.begin());
  }
  shard.members.emplace(entry->row.member_id, std::move(entry));
}

bool MemberCache::insert_if_absent(const MemberState& state, std::uint64_t seen_seq) {
  if (capacity_per_shard_ == 0 || !cacheable(state)) return false;
  Shard& shard = shard_for(state.row.member_id);
  auto entry = std::make_shared<const MemberState>(state);
  std::lock_guard lock(shard.mutex);
  if (shard.last_touched_seq > seen_seq) return false;  // the snapshot may predate that commit
  if (shard.members.count(state.row.member_id) != 0) return false;
  put(shard, std::move(entry));
  return true;
}

void MemberCache::publish(std::vector<MemberState> states,
                          const std::vector<std::string>& dropped) {
  const std::uint64_t seq = committed_seq_.load(std::memory_order_relaxed) + 1;
  for (auto& state : states) {
    Shard& shard = shard_for(state.row.member_id);
    const bool keep = capacity_per_shard_ != 0 && cacheable(state);
    auto entry = keep ? std::make_shared<const MemberState>(std::move(state)) : nullptr;
    std::lock_guard lock(shard.mutex);
    shard.last_touched_seq = seq;
    if (entry) {
      put(shard, std::move(entry));
    } else {
      shard.members.erase(state.row.member_id);
    }
  }
  for (const auto& member_id : dropped) {
    Shard& shard = shard_for(member_id);
    std::lock_guard lock(shard.mutex);
    shard.last_touched_seq = seq;
    shard.members.erase(member_id);
  }
  committed_seq_.store(seq, std::memory_order_release);
}

void MemberCache::publish_clear() {
  const std::uint64_t seq = committed_seq_.load(std::memory_order_relaxed) + 1;
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    shard.last_touched_seq = seq;
    shard.members.clear();
  }
  committed_seq_.store(seq, std::memory_order_release);
}

MemberCache::Stats MemberCache::stats() const {
  Stats s;
  s.hits = hits_.load(std::memory_order_relaxed);
  s.misses = misses_.load(std::memory_order_relaxed);
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    s.members += shard.members.size();
  }
  return s;
}

}  // namespace encore
