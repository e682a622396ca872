#include "api/webhook_client.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "ledger/hash.h"

namespace encore::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds,
                              std::string_view body) {
  const std::string t = std::to_string(unix_seconds);
  std::string payload = t + "." + std::string(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), mac, &size);
  return "t=" + t + ",v1=" + to_hex(mac, size);
}

std::optional<HttpsUrl> parse_https_url(std::string_view url) {
  constexpr std::string_view scheme = "https://";
  if (!url.starts_with(scheme)) return std::nullopt;
  url.remove_prefix(scheme.size());
  HttpsUrl out;
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (slash != std::string_view::npos) out.target = std::string(url.substr(slash));
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    out.port = std::string(authority.substr(colon + 1));
    authority = authority.substr(0, colon);
    if (out.port.empty()) return std::nullopt;
  }
  out.host = std::string(authority);
  if (out.host.empty()) return std::nullopt;
  return out;
}

namespace {

// Runs one asynchronous step to completion; the stream's deadline bounds it.
void run(net::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

WebhookResult post(const WebhookRequest& request, const HttpsUrl& url) {
  net::io_context ioc;
  ssl::context tls(ssl::context::tls_client);
  tls.set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                  ssl::context::no_tlsv1_1);
  tls.set_verify_mode(ssl::verify_peer);
  if (request.ca_file) {
    tls.load_verify_file(*request.ca_file);
  } else {
    tls.set_default_verify_paths();
  }
  beast::ssl_stream<beast::tcp_stream> stream(ioc, tls);
  stream.set_verify_callback(ssl::host_name_verification(url.host));
  if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) {
    return {0, "cannot set SNI host name"};
  }
  const auto deadline = std::chrono::steady_clock::now() + request.timeout;
  auto& lowest = beast::get_lowest_layer(stream);
  beast::error_code ec;

  tcp::resolver resolver(ioc);
  tcp::resolver::results_type endpoints;
  resolver.async_resolve(url.host, url.port,
                         [&](beast::error_code e, tcp::resolver::results_type r) {
                           ec = e;
                           endpoints = std::move(r);
                         });
  run(ioc);
  if (ec) return {0, "resolve: " + ec.message()};
  lowest.expires_at(deadline);
  lowest.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
  run(ioc);
  if (ec) return {0, "connect: " + ec.message()};
  lowest.expires_at(deadline);
  stream.async_handshake(ssl::stream_base::client, [&](beast::error_code e) { ec = e; });
  run(ioc);
  if (ec) return {0, "tls: " + ec.message()};

  http::request<http::string_body> msg{http::verb::post, url.target, 11};
  msg.set(http::field::host, url.host);
  msg.set(http::field::user_agent, "encore-reminders/1");
  msg.set(http::field::content_type, "application/json");
  msg.set("X-Encore-Signature", request.signature);
  msg.set("X-Encore-Reminder-Id", request.reminder_id);
  msg.set(http::field::connection, "close");
  msg.body() = request.body;
  msg.prepare_payload();
  lowest.expires_at(deadline);
  http::async_write(stream, msg, [&](beast::error_code e, std::size_t) { ec = e; });
  run(ioc);
  if (ec) return {0, "write: " + ec.message()};

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024);
  lowest.expires_at(deadline);
  http::async_read(stream, buffer, parser, [&](beast::error_code e, std::size_t) { ec = e; });
  run(ioc);
  if (ec) return {0, "read: " + ec.message()};
  const unsigned status = parser.get().result_int();
  WebhookResult out{status, {}};
  if (!out.ok()) out.error = "HTTP " + std::to_string(status);
  // Best-effort close; the answer is already in.
  lowest.expires_after(std::chrono::seconds(1));
  stream.async_shutdown([](beast::error_code) {});
  run(ioc);
  return out;
}

}  // namespace

WebhookResult post_webhook(const WebhookRequest& request) {
  auto url = parse_https_url(request.url);
  if (!url) return {0, "not an https:// URL"};
  try {
    return post(request, *url);
  } catch (const std::exception& e) {
    return {0, e.what()};
  }
}

}  // namespace encore::api
