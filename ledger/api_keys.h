// API keys (SPEC 5): created once and shown once, stored only as a SHA-256 hash, revocable.
// Keys are 256-bit random secrets, so a fast hash is safe (no password stretching needed).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ledger/result.h"
#include "ledger/store.h"

namespace encore {

enum class Role { pos, app, admin };
std::optional<Role> role_from(std::string_view text);
std::string_view to_string(Role role);

struct CreatedKey {
  std::string key;  // the secret: shown once, never stored
  std::string name;
  Role role = Role::pos;
};

// Key names: 1-64 chars of [A-Za-z0-9._:-].
Result<CreatedKey> create_api_key(Store& store, Role role, const std::string& name, TimePoint now);
Result<Unit> revoke_api_key(Store& store, const std::string& name, TimePoint now);
// The stored hash of a presented secret.
std::string api_key_hash(std::string_view secret);

}  // namespace encore
