// SHA-256 and hex helpers (OpenSSL). Used by the hash chain, request hashes and API-key hashes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace encore {

using Sha256 = std::array<std::uint8_t, 32>;

Sha256 sha256(std::string_view data);
// SHA-256 over the concatenation a || b without building it.
Sha256 sha256(std::string_view a, std::string_view b);
std::string to_hex(const std::uint8_t* data, std::size_t size);
inline std::string to_hex(const Sha256& h) {
  return to_hex(h.data(), h.size());
}
// Constant-time equality (CRYPTO_memcmp), for secrets and their hashes.
bool constant_time_equal(std::string_view a, std::string_view b);
// Cryptographically random bytes, hex encoded (2 * byte_count chars).
std::string random_hex(std::size_t byte_count);

}  // namespace encore
