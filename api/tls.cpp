#include "api/tls.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "api/log.h"

namespace encore::api {
namespace {

namespace ssl = boost::asio::ssl;

// Mozilla server-side TLS guidelines, "intermediate" profile (v5.7), TLS 1.2 part. TLS 1.3
// suites are OpenSSL's defaults, which are exactly the profile's.
constexpr const char* kIntermediateCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";

constexpr long kDevCertValiditySeconds = 365L * 24 * 3600;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct FileClose {
  void operator()(FILE* f) const { std::fclose(f); }
};

Error tls_error(std::string detail) {
  // The OpenSSL error queue is per thread; drain it so a later call does not report stale errors.
  const unsigned long code = ERR_get_error();
  if (code != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    detail += std::string(": ") + buf;
  }
  ERR_clear_error();
  return make_error(ErrorCode::internal, "tls", std::move(detail));
}

bool add_extension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

std::unique_ptr<X509, X509Free> make_self_signed(EVP_PKEY* key) {
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) return nullptr;
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return nullptr;
  serial[0] &= 0x7f;  // a positive serial, as RFC 5280 requires
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  const bool serial_ok = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_NAME* name = X509_get_subject_name(cert.get());
  const bool ok =
      serial_ok && X509_set_version(cert.get(), X509_VERSION_3) == 1 &&
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), kDevCertValiditySeconds) != nullptr &&
      X509_set_pubkey(cert.get(), key) == 1 &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>("localhost"), -1, -1,
                                 0) == 1 &&
      X509_set_issuer_name(cert.get(), name) == 1 &&
      add_extension(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1") &&
      add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") &&
      add_extension(cert.get(), NID_key_usage, "critical,digitalSignature") &&
      add_extension(cert.get(), NID_ext_key_usage, "serverAuth") &&
      X509_sign(cert.get(), key, EVP_sha256()) > 0;
  if (!ok) return nullptr;
  return cert;
}

// The key is created with mode 0600 from the start (not chmod-ed later), so it is never readable
// by others, even briefly.
bool write_private_key(const std::string& path, EVP_PKEY* key) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  std::unique_ptr<FILE, FileClose> file(::fdopen(fd, "w"));
  if (!file) {
    ::close(fd);
    return false;
  }
  return PEM_write_PrivateKey(file.get(), key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
}

bool write_certificate(const std::string& path, X509* cert) {
  std::unique_ptr<FILE, FileClose> file(std::fopen(path.c_str(), "w"));
  return file && PEM_write_X509(file.get(), cert) == 1;
}

}  // namespace

CertificateFiles dev_certificate_paths(const std::string& db_path) {
  return {db_path + ".dev-cert.pem", db_path + ".dev-key.pem"};
}

Result<CertificateFiles> ensure_dev_certificate(const std::string& db_path) {
  const CertificateFiles files = dev_certificate_paths(db_path);
  std::error_code ec;
  if (std::filesystem::exists(files.cert_path, ec) && std::filesystem::exists(files.key_path, ec))
    return files;
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
  if (!key) return tls_error("cannot generate an EC P-256 key");
  auto cert = make_self_signed(key.get());
  if (!cert) return tls_error("cannot build the development certificate");
  // Key first: a certificate file alone is never taken as a complete pair.
  if (!write_private_key(files.key_path, key.get()))
    return tls_error("cannot write " + files.key_path);
  if (!write_certificate(files.cert_path, cert.get()))
    return tls_error("cannot write " + files.cert_path);
  return files;
}

Result<std::unique_ptr<ssl::context>> make_server_tls_context(const Config& config) {
  CertificateFiles files{config.tls_cert_path, config.tls_key_path};
  if (files.cert_path.empty()) {
    auto dev = ensure_dev_certificate(config.db_path);
    if (!dev) return dev.error();
    files = *dev;
    log_warn(
        "using a self-signed development certificate; give --tls-cert and --tls-key in "
        "production",
        {{"cert", files.cert_path}});
  }
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::no_compression | ssl::context::single_dh_use);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1)
    return tls_error("cannot set the minimum TLS version");
  if (SSL_CTX_set_cipher_list(native, kIntermediateCiphers) != 1)
    return tls_error("cannot set the cipher list");
  SSL_CTX_set_dh_auto(native, 1);  // the DHE suites use OpenSSL's built-in RFC 7919 groups
  if (SSL_CTX_use_certificate_chain_file(native, files.cert_path.c_str()) != 1)
    return tls_error("cannot load certificate " + files.cert_path);
  if (SSL_CTX_use_PrivateKey_file(native, files.key_path.c_str(), SSL_FILETYPE_PEM) != 1)
    return tls_error("cannot load private key " + files.key_path);
  if (SSL_CTX_check_private_key(native) != 1)
    return tls_error("private key does not match certificate " + files.cert_path);
  return ctx;
}

}  // namespace encore::api
