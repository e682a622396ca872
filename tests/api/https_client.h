// A small synchronous HTTPS client for tests (Beast over OpenSSL), certificate checks off since
// the server under test uses its self-signed development certificate.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace encore::test {

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // sent with Content-Length when non-empty or method is POST/PUT/PATCH
};

struct HttpResponse {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  // Empty string when absent; `name` is case-insensitive.
  std::string header(const std::string& name) const;
};

// One keep-alive connection. Never reconnects: a request on a connection the server closed
// throws, which is what keep-alive tests rely on.
class HttpsConnection {
 public:
  explicit HttpsConnection(std::uint16_t port,
                           std::chrono::seconds timeout = std::chrono::seconds(10));
  ~HttpsConnection();
  HttpsConnection(const HttpsConnection&) = delete;
  HttpsConnection& operator=(const HttpsConnection&) = delete;

  // Throws std::runtime_error (boost::system::system_error) on I/O failure.
  HttpResponse request(const HttpRequest& req);
  HttpResponse get(const std::string& target) { return request({"GET", target, {}, {}}); }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Connects, sends one request with `Connection: close`, returns the response.
HttpResponse https_request(std::uint16_t port, const HttpRequest& req);
inline HttpResponse https_get(std::uint16_t port, const std::string& target) {
  return https_request(port, {"GET", target, {}, {}});
}

// Attempts a TLS handshake with the client limited to [min_version, max_version]
// (TLS1_VERSION..TLS1_3_VERSION from <openssl/ssl.h>); the client's own security level is lowered
// so a refusal can only come from the server. Returns nullopt on success, else the error text.
std::optional<std::string> try_tls_handshake(std::uint16_t port, int min_version, int max_version);

// Plain TCP: connects, writes `data` (may be empty), then reads until the peer closes or
// `timeout` passes. Returns what was received, or nullopt if the peer had not closed in time.
std::optional<std::string> raw_tcp_exchange(std::uint16_t port, const std::string& data,
                                            std::chrono::milliseconds timeout);

}  // namespace encore::test
