// A small synchronous HTTPS client for the server-backed commands of encore-admin (Beast over
// OpenSSL). https only; the server's certificate is verified by default (system trust store plus
// --ca-cert), --insecure turns verification off for a development certificate. Every failure is
// an HttpsError whose message says what to do.
#pragma once

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace encore::admin {

struct HttpsError : std::runtime_error {
  HttpsError(const std::string& what, bool retry) : std::runtime_error(what), retryable(retry) {}
  // True for network errors where the same request may simply be sent again (connection refused,
  // reset, timeout); false for certificate and URL errors.
  bool retryable;
};

struct HttpsOptions {
  std::string url;  // https://host[:port][/base]
  bool insecure = false;
  std::string ca_cert;  // extra CA (PEM file) to trust besides the system store
  std::chrono::seconds timeout{10};
};

struct HttpsResponse {
  unsigned status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
};

class HttpsClient {
 public:
  // Parses the URL (Boost.URL); throws HttpsError when it is not an https URL with a host.
  explicit HttpsClient(HttpsOptions options);

  // One request on a fresh connection (`Connection: close`). `target` is appended to the URL's
  // path ("/v1/members/m1"). Throws HttpsError on any transport or TLS failure.
  HttpsResponse request(const std::string& method, const std::string& target,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        const std::string& body) const;

  // "https://host:port" as the user gave it, for messages.
  const std::string& origin() const { return origin_; }

 private:
  HttpsOptions options_;
  std::string host_;
  std::string port_;
  std::string base_path_;  // without a trailing '/'
  std::string origin_;
};

}  // namespace encore::admin
