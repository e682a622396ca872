// Server TLS: TLS 1.2 and 1.3 only, Mozilla "intermediate" ciphers, and a self-signed
// development certificate when the operator gives none.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "api/config.h"
#include "ledger/result.h"

namespace encore::api {

struct CertificateFiles {
  std::string cert_path;
  std::string key_path;
};

// Paths of the development certificate kept next to the database.
CertificateFiles dev_certificate_paths(const std::string& db_path);

// Reuses <db>.dev-cert.pem/.dev-key.pem when both exist, else generates them (EC P-256,
// CN=localhost, SAN DNS:localhost + IP:127.0.0.1, valid one year; key file mode 0600).
Result<CertificateFiles> ensure_dev_certificate(const std::string& db_path);

// Builds the server context from the configured certificate, or the development one (logging a
// warning). Errors name the file that could not be loaded.
Result<std::unique_ptr<boost::asio::ssl::context>> make_server_tls_context(const Config& config);

}  // namespace encore::api
