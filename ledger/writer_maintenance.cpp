// Batch upkeep: expiry runs, tier recomputation, idempotency records, the chain head.
#include <algorithm>
#include <set>

#include "ledger/writer_impl.h"

namespace encore {

Writer::Writer(Store& store, const Program& program, const Clock& clock)
    : store_(store), program_(program), clock_(clock) {}

void Writer::load_chain_head() {
  auto last = store_.last_entry();
  last_id_ = last ? last->first : 0;
  last_hash_ = last ? last->second : Sha256{};
}

void Writer::stage_released(Posting& posting) noexcept {
  if (batch_ == nullptr) return;
  try {
    posting.stage(*batch_);
  } catch (...) {
    // The operation's rows are already part of the batch: never roll back here, forget instead.
    batch_->incomplete = true;
  }
}

std::optional<IdempotencyRecord> Writer::idempotency(const std::string& key_name,
                                                     const std::string& idem_key) {
  return store_.idempotency(key_name, idem_key);
}

void Writer::save_idempotency(const IdempotencyRecord& record) {
  store_.insert_idempotency(record);
}

Result<std::int64_t> Writer::purge_idempotency(TimePoint older_than, std::size_t limit) {
  return isolated<std::int64_t>([&](Posting&) -> Result<std::int64_t> {
    return store_.purge_idempotency(older_than, limit);
  });
}

Result<ExpiryRunResult> Writer::run_expiry(TimePoint as_of, bool dry_run, const Actor& actor) {
  return expire_members(expiry_candidates(as_of), as_of, dry_run, actor);
}

std::vector<std::string> Writer::expiry_candidates(TimePoint as_of) {
  // Never expire points before their time: an as-of date in the future is capped at now.
  const TimePoint t = std::min(as_of, clock_.now());
  std::set<std::string> members;
  for (auto& m : store_.members_with_expired_lots(t)) members.insert(std::move(m));
  for (auto& m : store_.members_with_stale_holds(t)) members.insert(std::move(m));
  if (program_.expiry.policy == ExpiryPolicy::inactivity) {
    // Candidates only (a day of slack for time zones); lot_expiry decides exactly.
    auto since = t - std::chrono::days{program_.expiry.days - 1};
    for (auto& m : store_.members_inactive_since(since)) members.insert(std::move(m));
  }
  return {members.begin(), members.end()};
}

Result<ExpiryRunResult> Writer::expire_members(const std::vector<std::string>& member_ids,
                                               TimePoint as_of, bool dry_run, const Actor& actor) {
  (void)actor;
  const auto saved_id = last_id_;
  const auto saved_hash = last_hash_;
  store_.savepoint();
  try {
    Posting p(store_, program_, clock_.now(), clock_.recorded_now(), last_id_, last_hash_, batch_);
    const TimePoint t = std::min(as_of, p.now());
    ExpiryRunResult result;
    for (const auto& member_id : member_ids) {
      auto state = p.load_unstaged(member_id);
      if (!state) continue;
      auto before = p.posted().size();
      p.refresh(*state, t);
      if (p.posted().size() > before) ++result.members;
    }
    for (const auto& e : p.posted()) {
      if (e.kind != EntryKind::expire) continue;
      ++result.entries;
      result.points -= e.points;
    }
    if (dry_run) {
      store_.rollback_to_savepoint();
      last_id_ = saved_id;
      last_hash_ = saved_hash;
    } else {
      p.flush();
      store_.release_savepoint();
      stage_released(p);
    }
    return result;
  } catch (...) {
    store_.rollback_to_savepoint();
    last_id_ = saved_id;
    last_hash_ = saved_hash;
    throw;
  }
}

Result<TierRecomputeChunk> Writer::recompute_tiers(const std::string& after_member_id,
                                                   std::size_t limit) {
  return isolated<TierRecomputeChunk>([&](Posting& p) -> Result<TierRecomputeChunk> {
    TierRecomputeChunk chunk;
    for (const auto& member_id : store_.member_ids_after(after_member_id, limit)) {
      ++chunk.members;
      chunk.last_member_id = member_id;
      auto state = p.load_unstaged(member_id);
      if (!state) continue;
      auto before = state->row.tier;
      p.refresh_tier(*state, p.now());
      if (state->row.tier != before) ++chunk.changed;
    }
    return chunk;
  });
}

}  // namespace encore
