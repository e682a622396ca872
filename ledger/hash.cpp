#include "ledger/hash.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace encore {

Sha256 sha256(std::string_view data) {
  return sha256(data, {});
}

namespace {

// In OpenSSL 3, EVP_sha256() in EVP_DigestInit_ex does an implicit provider fetch on every call
// (locks), and a context per call is an allocation: both showed in profiles of the hot paths
// (API-key check per request, hash chain per entry). The digest is fetched once and each thread
// keeps one context.
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) throw std::runtime_error("EVP_MD_fetch(SHA256) failed");
  return md;
}

struct DigestContext {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~DigestContext() { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Sha256 sha256(std::string_view a, std::string_view b) {
  thread_local DigestContext context;
  EVP_MD_CTX* ctx = context.ctx;
  if (ctx == nullptr) throw std::runtime_error("EVP_MD_CTX_new failed");
  Sha256 out{};
  bool ok = EVP_DigestInit_ex2(ctx, sha256_md(), nullptr) == 1 &&
            EVP_DigestUpdate(ctx, a.data(), a.size()) == 1 &&
            EVP_DigestUpdate(ctx, b.data(), b.size()) == 1 &&
            EVP_DigestFinal_ex(ctx, out.data(), nullptr) == 1;
  if (!ok) throw std::runtime_error("sha256 failed");
  return out;
}

std::string to_hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(size * 2, '0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = digits[data[i] >> 4];
    out[2 * i + 1] = digits[data[i] & 0x0f];
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_hex(std::size_t byte_count) {
  std::string bytes(byte_count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(byte_count)) !=
      1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return to_hex(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace encore
