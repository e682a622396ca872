#include "api/auth.h"

#include "ledger/hash.h"

namespace encore::api {

namespace {

std::atomic<std::uint64_t> next_instance_id{1};

// The last key each I/O thread accepted. A POS terminal or app connection sends the same header
// on every request, and hashing it (SHA-256) plus the shared-locked map lookup cost about 2% of
// a balance read. The memo holds the presented header, which is the secret itself: it lives only
// in this process's memory, like the request buffers it came from, and is never logged.
struct AcceptedKeyMemo {
  std::uint64_t cache_instance = 0;
  std::uint64_t generation = 0;
  std::string header;
  Principal principal;
};
thread_local AcceptedKeyMemo accepted_key_memo;

}  // namespace

KeyCache::KeyCache(const Ledger& ledger, std::chrono::milliseconds refresh_interval)
    : ledger_(ledger),
      refresh_interval_(refresh_interval),
      instance_id_(next_instance_id.fetch_add(1, std::memory_order_relaxed)) {}

void KeyCache::refresh_if_stale() {
  auto now = std::chrono::steady_clock::now();
  bool loaded = false;
  {
    std::shared_lock lock(mutex_);
    loaded = loaded_at_ != std::chrono::steady_clock::time_point{};
    if (loaded && now - loaded_at_ < refresh_interval_) return;
  }
  std::unique_lock reload(reload_mutex_, std::defer_lock);
  if (loaded) {
    if (!reload.try_lock()) return;  // another thread is reloading; use the current map
  } else {
    // Nothing loaded yet: the current map is empty, so waiting is the only correct answer
    // (skipping would refuse every valid key with 401 while the first load runs).
    reload.lock();
    std::shared_lock lock(mutex_);
    if (loaded_at_ != std::chrono::steady_clock::time_point{}) return;
  }
  std::unordered_map<std::string, Key> fresh;
  for (const auto& row : ledger_.api_keys()) {
    auto role = role_from(row.role);
    if (row.revoked_at || !role) continue;
    fresh.emplace(row.key_hash, Key{row.name, *role, row.key_hash});
  }
  std::unique_lock lock(mutex_);
  by_hash_ = std::move(fresh);
  loaded_at_ = now;
  generation_.fetch_add(1, std::memory_order_release);
}

std::optional<Principal> KeyCache::authenticate(std::string_view header) {
  constexpr std::string_view scheme = "Bearer ";
  constexpr std::size_t max_key_length = 256;
  if (header.size() <= scheme.size() || header.size() > scheme.size() + max_key_length ||
      header.substr(0, scheme.size()) != scheme) {
    return std::nullopt;
  }
  refresh_if_stale();
  // Read before the lookup: a reload in between leaves the memo one generation behind, which
  // only costs a recomputation on the next request.
  const auto generation = generation_.load(std::memory_order_acquire);
  auto& memo = accepted_key_memo;
  if (memo.cache_instance == instance_id_ && memo.generation == generation &&
      constant_time_equal(memo.header, header)) {
    return memo.principal;
  }
  auto presented = api_key_hash(header.substr(scheme.size()));
  std::optional<Principal> principal;
  {
    std::shared_lock lock(mutex_);
    auto it = by_hash_.find(presented);
    if (it == by_hash_.end()) return std::nullopt;
    // The lookup is by hash of a 256-bit secret, which reveals nothing; the final comparison is
    // constant time all the same.
    if (!constant_time_equal(it->second.hash, presented)) return std::nullopt;
    principal = Principal{it->second.name, it->second.role};
  }
  memo.cache_instance = instance_id_;
  memo.generation = generation;
  memo.header.assign(header);
  memo.principal = *principal;
  return principal;
}

}  // namespace encore::api
