// The reminders webhook (SPEC 7): Stripe-style signatures and one HTTPS POST with certificate
// and host-name verification on, optionally trusting a private CA (`ca_file`), with a timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace encore::api {

// `t=UNIX_SECONDS,v1=HEX`, HEX = lower-case HMAC-SHA256(secret, "UNIX_SECONDS.BODY").
std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds,
                              std::string_view body);

struct HttpsUrl {
  std::string host;
  std::string port = "443";
  std::string target = "/";
};
std::optional<HttpsUrl> parse_https_url(std::string_view url);

struct WebhookResult {
  unsigned status = 0;  // 0: no HTTP answer (connect, TLS, timeout); see error
  std::string error;
  bool ok() const { return status >= 200 && status < 300; }
};

struct WebhookRequest {
  std::string url;
  std::optional<std::string> ca_file;  // else the system's trust store
  std::string body;
  std::string signature;
  std::string reminder_id;
  std::chrono::seconds timeout{10};  // for the whole exchange
};

// Never throws.
WebhookResult post_webhook(const WebhookRequest& request);

}  // namespace encore::api
