// Idempotency keys (SPEC 5): same key + same request (per API key) replays the stored outcome;
// same key + different request -> 422 `idempotency_key_reused`; a request still in flight with
// the same key -> 409 `request_in_progress`. Outcomes are stored by the write job in the same
// transaction as the ledger change, so a replay can never disagree with the ledger.
//
// The guard only tracks keys in flight. Whether a key already has a stored outcome is read by the
// write job itself, on the writer (Writer::idempotency, handler_support.cpp): the key is marked
// in flight first, and a request that stored it unmarks it only after its commit, so that read
// always sees the record of every earlier request with the key.
#pragma once

#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace encore::api {

inline constexpr std::size_t max_idempotency_key_length = 128;
// At most this many keyed requests in flight at once; beyond it the server answers 503.
inline constexpr std::size_t max_in_flight_keys = 100'000;

// 1-128 printable ASCII characters.
bool valid_idempotency_key(std::string_view key);

class IdempotencyGuard {
 public:
  enum class Outcome { proceed, in_flight, overloaded };

  // On `proceed` the key is marked in flight: the caller must call finish() after the write
  // committed (or failed).
  Outcome begin(const std::string& key_name, const std::string& idem_key);
  void finish(const std::string& key_name, const std::string& idem_key);

 private:
  std::mutex mutex_;
  std::set<std::pair<std::string, std::string>> in_flight_;
};

}  // namespace encore::api
