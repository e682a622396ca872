#include "ledger/api_keys.h"

#include "ledger/hash.h"
#include "ledger/types.h"

namespace encore {

std::optional<Role> role_from(std::string_view text) {
  if (text == "pos") return Role::pos;
  if (text == "app") return Role::app;
  if (text == "admin") return Role::admin;
  return std::nullopt;
}

std::string_view to_string(Role role) {
  switch (role) {
    case Role::pos:
      return "pos";
    case Role::app:
      return "app";
    case Role::admin:
      return "admin";
  }
  return "pos";
}

std::string api_key_hash(std::string_view secret) {
  auto h = sha256(secret);
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

Result<CreatedKey> create_api_key(Store& store, Role role, const std::string& name, TimePoint now) {
  if (!valid_member_id(name)) {
    return make_error(ErrorCode::invalid_request, "name",
                      "must be 1-64 characters of [A-Za-z0-9._:-]");
  }
  if (store.api_key(name)) {
    return make_error(ErrorCode::member_exists, "name", "a key named '" + name + "' exists");
  }
  CreatedKey created{"enc_" + std::string(to_string(role)) + "_" + random_hex(32), name, role};
  store.insert_api_key(
      ApiKeyRow{name, std::string(to_string(role)), api_key_hash(created.key), now, {}});
  return created;
}

Result<Unit> revoke_api_key(Store& store, const std::string& name, TimePoint now) {
  if (!store.api_key(name)) {
    return make_error(ErrorCode::not_found, "name", "no key named '" + name + "'");
  }
  store.revoke_api_key(name, now);
  return Unit{};
}

}  // namespace encore
