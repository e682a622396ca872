// The hash chain (SPEC 2): hash(entry) = SHA-256(previous hash || canonical(entry)).
// The canonical form is length-prefixed so no two different entries encode the same way.
#pragma once

#include <string>

#include "ledger/types.h"

namespace encore {

inline constexpr Sha256 genesis_hash{};  // the "previous hash" of entry 1: 32 zero bytes

// Appends the canonical encoding of every field of `e` except its hash.
void append_canonical(std::string& out, const Entry& e);
Sha256 chain_hash(const Sha256& previous, const Entry& e);

}  // namespace encore
