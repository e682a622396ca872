#include "api/idempotency.h"

namespace encore::api {

bool valid_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > max_idempotency_key_length) return false;
  for (char c : key) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

IdempotencyGuard::Outcome IdempotencyGuard::begin(const std::string& key_name,
                                                  const std::string& idem_key) {
  std::lock_guard lock(mutex_);
  if (in_flight_.count({key_name, idem_key}) != 0) return Outcome::in_flight;
  if (in_flight_.size() >= max_in_flight_keys) return Outcome::overloaded;
  in_flight_.emplace(key_name, idem_key);
  return Outcome::proceed;
}

void IdempotencyGuard::finish(const std::string& key_name, const std::string& idem_key) {
  std::lock_guard lock(mutex_);
  in_flight_.erase({key_name, idem_key});
}

}  // namespace encore::api
