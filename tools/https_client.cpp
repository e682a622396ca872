#include "tools/https_client.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <cctype>

namespace encore::admin {
namespace {

namespace net = boost::asio;
namespace ssl = net::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

// Runs the io_context until the pending operation completes; the stream's expiry bounds it.
void run(net::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

}  // namespace

HttpsClient::HttpsClient(HttpsOptions options) : options_(std::move(options)) {
  const std::string& url = options_.url;
  auto hint = " (e.g. --server https://127.0.0.1:8443, or set ENCORE_SERVER)";
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) throw HttpsError("--server '" + url + "' is not a valid URL" + hint, false);
  if (lower(std::string(parsed->scheme())) != "https") {
    throw HttpsError("--server '" + url +
                         "' must be an https:// URL; encore-server speaks HTTPS only" +
                         std::string(hint),
                     false);
  }
  host_ = std::string(parsed->host_address());
  if (host_.empty()) throw HttpsError("--server '" + url + "' has no host" + hint, false);
  port_ = parsed->has_port() ? std::string(parsed->port()) : "443";
  base_path_ = std::string(parsed->encoded_path());
  while (!base_path_.empty() && base_path_.back() == '/') base_path_.pop_back();
  origin_ = "https://" + std::string(parsed->encoded_host_and_port());
}

HttpsResponse HttpsClient::request(const std::string& method, const std::string& target,
                                   const std::vector<std::pair<std::string, std::string>>& headers,
                                   const std::string& body) const {
  net::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  if (options_.insecure) {
    ctx.set_verify_mode(ssl::verify_none);
  } else {
    ctx.set_default_verify_paths();
    if (!options_.ca_cert.empty()) {
      boost::system::error_code ec;
      ctx.load_verify_file(options_.ca_cert, ec);
      if (ec) {
        throw HttpsError("cannot load --ca-cert " + options_.ca_cert + ": " + ec.message() +
                             "; pass a PEM certificate (e.g. <db>.dev-cert.pem)",
                         false);
      }
    }
    ctx.set_verify_mode(ssl::verify_peer);
  }
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  SSL* handle = stream.native_handle();
  const bool ip = is_ip_literal(host_);
  if (!ip) SSL_set_tlsext_host_name(handle, host_.c_str());  // SNI takes names only
  if (!options_.insecure) {
    // Check the certificate names this host (DNS name or IP address in its SAN).
    X509_VERIFY_PARAM* param = SSL_get0_param(handle);
    if (ip) {
      X509_VERIFY_PARAM_set1_ip_asc(param, host_.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, host_.c_str(), 0);
    }
  }

  auto& tcp_layer = beast::get_lowest_layer(stream);
  const std::string where = origin_;
  auto network = [&](const std::string& what, const beast::error_code& ec) {
    std::string reason = ec.message();
    if (ec == net::error::connection_refused) reason = "connection refused";
    if (ec == beast::error::timeout) reason = "timed out";
    return HttpsError("cannot reach " + where + ": " + reason + " (" + what +
                          ") — is encore-server running? use --server URL (or ENCORE_SERVER)",
                      true);
  };

  // Resolve and connect.
  beast::error_code result;
  tcp::resolver::results_type endpoints;
  tcp::resolver resolver(ioc);
  resolver.async_resolve(host_, port_, [&](beast::error_code ec, tcp::resolver::results_type r) {
    result = ec;
    endpoints = std::move(r);
  });
  run(ioc);
  if (result) {
    throw HttpsError("cannot resolve " + host_ + " (" + result.message() +
                         "); check --server (or ENCORE_SERVER)",
                     true);
  }
  tcp_layer.expires_after(options_.timeout);
  tcp_layer.async_connect(endpoints,
                          [&](beast::error_code ec, const tcp::endpoint&) { result = ec; });
  run(ioc);
  if (result) throw network("connect", result);

  tcp_layer.expires_after(options_.timeout);
  stream.async_handshake(ssl::stream_base::client, [&](beast::error_code ec) { result = ec; });
  run(ioc);
  if (result) {
    long verify = SSL_get_verify_result(handle);
    if (!options_.insecure && verify != X509_V_OK) {
      throw HttpsError("the TLS certificate of " + where + " is not trusted (" +
                           X509_verify_cert_error_string(verify) +
                           "); pass --ca-cert PEM (the server's development certificate is "
                           "<db>.dev-cert.pem) or --insecure for a local test",
                       false);
    }
    if (result.category() == net::error::get_ssl_category()) {
      throw HttpsError("TLS handshake with " + where + " failed (" + result.message() +
                           "); is --server an encore-server HTTPS address?",
                       false);
    }
    throw network("TLS handshake", result);
  }

  http::request<http::string_body> req{http::string_to_verb(method), base_path_ + target, 11};
  req.set(http::field::host, std::string(host_) + ":" + port_);
  req.set(http::field::user_agent, "encore-admin");
  req.set(http::field::accept, "application/json");
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : headers) req.set(name, value);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();

  tcp_layer.expires_after(options_.timeout);
  http::async_write(stream, req, [&](beast::error_code ec, std::size_t) { result = ec; });
  run(ioc);
  if (result) throw network("send", result);

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  tcp_layer.expires_after(options_.timeout);
  http::async_read(stream, buffer, parser, [&](beast::error_code ec, std::size_t) { result = ec; });
  run(ioc);
  if (result) throw network("read", result);

  HttpsResponse out;
  auto res = parser.release();
  out.status = res.result_int();
  for (const auto& field : res) {
    out.headers[lower(std::string(field.name_string()))] = std::string(field.value());
  }
  out.body = std::move(res.body());
  // Best-effort close; the response is complete either way.
  tcp_layer.expires_after(std::chrono::seconds(1));
  stream.async_shutdown([](beast::error_code) {});
  run(ioc);
  return out;
}

}  // namespace encore::admin
