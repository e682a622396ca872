#include "tests/api/https_client.h"

#include <algorithm>
#include <cctype>

#include <openssl/ssl.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace encore::test {
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

tcp::endpoint loopback(std::uint16_t port) {
  return {net::ip::make_address("127.0.0.1"), port};
}

// Runs the io_context until the one pending operation completes; the tcp_stream's expiry (set
// by the caller) bounds it, so a silent server yields beast::error::timeout, not a hang.
void run_until_done(net::io_context& ioc) {
  ioc.restart();
  ioc.run();
}

std::unique_ptr<ssl::context> client_context(int min_version, int max_version) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
  ctx->set_verify_mode(ssl::verify_none);
  // Debian's default SECLEVEL=2 would stop the client from even offering TLS 1.0/1.1; lower it
  // so that the server alone decides.
  SSL_CTX_set_security_level(ctx->native_handle(), 0);
  SSL_CTX_set_cipher_list(ctx->native_handle(), "ALL:@SECLEVEL=0");
  SSL_CTX_set_min_proto_version(ctx->native_handle(), min_version);
  SSL_CTX_set_max_proto_version(ctx->native_handle(), max_version);
  return ctx;
}

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  const auto it = headers.find(lower(name));
  return it == headers.end() ? std::string{} : it->second;
}

struct HttpsConnection::Impl {
  net::io_context ioc;
  std::unique_ptr<ssl::context> tls = client_context(TLS1_2_VERSION, TLS1_3_VERSION);
  beast::ssl_stream<beast::tcp_stream> stream{ioc, *tls};
  beast::flat_buffer buffer;
  std::chrono::seconds timeout;

  void check(beast::error_code ec, const char* what) {
    if (ec) throw beast::system_error(ec, what);
  }

  void connect(std::uint16_t port) {
    beast::error_code result;
    beast::get_lowest_layer(stream).expires_after(timeout);
    beast::get_lowest_layer(stream).async_connect(loopback(port),
                                                  [&](beast::error_code ec) { result = ec; });
    run_until_done(ioc);
    check(result, "connect");
    SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
    beast::get_lowest_layer(stream).expires_after(timeout);
    stream.async_handshake(ssl::stream_base::client, [&](beast::error_code ec) { result = ec; });
    run_until_done(ioc);
    check(result, "handshake");
  }
};

HttpsConnection::HttpsConnection(std::uint16_t port, std::chrono::seconds timeout)
    : impl_(std::make_unique<Impl>()) {
  impl_->timeout = timeout;
  impl_->connect(port);
}

HttpsConnection::~HttpsConnection() = default;

HttpResponse HttpsConnection::request(const HttpRequest& req) {
  http::request<http::string_body> msg{http::string_to_verb(req.method), req.target, 11};
  msg.set(http::field::host, "localhost");
  for (const auto& [name, value] : req.headers) msg.set(name, value);
  msg.body() = req.body;
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT" || req.method == "PATCH")
    msg.prepare_payload();

  beast::error_code write_ec;
  beast::get_lowest_layer(impl_->stream).expires_after(impl_->timeout);
  http::async_write(impl_->stream, msg, [&](beast::error_code ec, std::size_t) { write_ec = ec; });
  run_until_done(impl_->ioc);
  // A server may answer (413) and close before reading the whole body: still read its reply.
  http::response_parser<http::string_body> parser;
  parser.body_limit(16 * 1024 * 1024);
  beast::error_code read_ec;
  beast::get_lowest_layer(impl_->stream).expires_after(impl_->timeout);
  http::async_read(impl_->stream, impl_->buffer, parser,
                   [&](beast::error_code ec, std::size_t) { read_ec = ec; });
  run_until_done(impl_->ioc);
  if (read_ec) impl_->check(write_ec ? write_ec : read_ec, "request");

  HttpResponse out;
  auto res = parser.release();
  out.status = res.result_int();
  for (const auto& field : res)
    out.headers[lower(std::string(field.name_string()))] = field.value();
  out.body = std::move(res.body());
  return out;
}

HttpResponse https_request(std::uint16_t port, const HttpRequest& req) {
  HttpsConnection connection(port);
  HttpRequest copy = req;
  copy.headers.emplace_back("Connection", "close");
  return connection.request(copy);
}

std::optional<std::string> try_tls_handshake(std::uint16_t port, int min_version, int max_version) {
  net::io_context ioc;
  auto tls = client_context(min_version, max_version);
  beast::ssl_stream<beast::tcp_stream> stream{ioc, *tls};
  beast::error_code result;
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(stream).async_connect(loopback(port),
                                                [&](beast::error_code ec) { result = ec; });
  run_until_done(ioc);
  if (result) return "connect: " + result.message();
  stream.async_handshake(ssl::stream_base::client, [&](beast::error_code ec) { result = ec; });
  run_until_done(ioc);
  if (result) return result.message();
  return std::nullopt;
}

std::optional<std::string> raw_tcp_exchange(std::uint16_t port, const std::string& data,
                                            std::chrono::milliseconds timeout) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(timeout);
  beast::error_code result;
  stream.async_connect(loopback(port), [&](beast::error_code ec) { result = ec; });
  run_until_done(ioc);
  if (result) throw beast::system_error(result, "connect");
  if (!data.empty()) {
    net::async_write(stream, net::buffer(data),
                     [&](beast::error_code ec, std::size_t) { result = ec; });
    run_until_done(ioc);
  }
  std::string received;
  char chunk[4096];
  while (!result) {
    stream.async_read_some(net::buffer(chunk), [&](beast::error_code ec, std::size_t n) {
      result = ec;
      received.append(chunk, n);
    });
    run_until_done(ioc);
  }
  if (result == beast::error::timeout) return std::nullopt;
  return received;  // eof or reset: the server closed the connection
}

}  // namespace encore::test
