#include "api/auth.h"

#include "ledger/hash.h"

namespace encore::api {

KeyCache::KeyCache(const Ledger& ledger, std::chrono::milliseconds refresh_interval)
    : ledger_(ledger), refresh_interval_(refresh_interval) {}

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
}

std::optional<Principal> KeyCache::authenticate(std::string_view header) {
  constexpr std::string_view scheme = "Bearer ";
  constexpr std::size_t max_key_length = 256;
  if (header.size() <= scheme.size() || header.size() > scheme.size() + max_key_length ||
      header.substr(0, scheme.size()) != scheme) {
    return std::nullopt;
  }
  auto presented = api_key_hash(header.substr(scheme.size()));
  refresh_if_stale();
  std::shared_lock lock(mutex_);
  auto it = by_hash_.find(presented);
  if (it == by_hash_.end()) return std::nullopt;
  // The lookup is by hash of a 256-bit secret, which reveals nothing; the final comparison is
  // constant time all the same.
  if (!constant_time_equal(it->second.hash, presented)) return std::nullopt;
  return Principal{it->second.name, it->second.role};
}

}  // namespace encore::api
