// Idempotency keys (SPEC 5): same key + same request (per API key) replays the stored outcome;
// same key + different request -> 422 `idempotency_key_reused`; a request still in flight with
// the same key -> 409 `request_in_progress`. Outcomes are stored by the write job in the same
// transaction as the ledger change, so a replay can never disagree with the ledger.
#pragma once

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "ledger/ledger.h"

namespace encore::api {

inline constexpr std::size_t max_idempotency_key_length = 128;
// At most this many keyed requests in flight at once; beyond it the server answers 503.
inline constexpr std::size_t max_in_flight_keys = 100'000;

// 1-128 printable ASCII characters.
bool valid_idempotency_key(std::string_view key);

class IdempotencyGuard {
 public:
  enum class Outcome { proceed, replay, reused, in_flight, overloaded };
  struct Check {
    Outcome outcome = Outcome::proceed;
    std::optional<IdempotencyRecord> stored;  // for replay
  };

  explicit IdempotencyGuard(const Ledger& ledger) : ledger_(ledger) {}

  // On `proceed` the key is marked in flight: the caller must call finish() after the write
  // committed (or failed).
  Check begin(const std::string& key_name, const std::string& idem_key,
              const std::string& request_hash);
  void finish(const std::string& key_name, const std::string& idem_key);

 private:
  const Ledger& ledger_;
  std::mutex mutex_;
  std::set<std::pair<std::string, std::string>> in_flight_;
};

}  // namespace encore::api
