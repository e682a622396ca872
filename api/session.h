// One TLS connection: handshake, then HTTP/1.1 requests read with limits and timeouts, each
// answered by the pure Router. The session lives through shared_from_this() in its handlers.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "api/config.h"
#include "api/router.h"

namespace encore::api {

class Session;

// Live connections: enforces max_connections at accept and lets shutdown reach every session.
// Thread-safe. Must outlive the io_context that runs the sessions (they unregister on
// destruction).
class ConnectionRegistry {
 public:
  explicit ConnectionRegistry(std::size_t max_connections) : max_(max_connections) {}
  // False when at the cap or draining: the caller then drops the connection.
  bool try_add(const std::shared_ptr<Session>& session);
  void remove(const Session* session);
  std::size_t size() const;
  // Refuses new sessions and asks every live one to close once idle.
  void drain_all();

 private:
  mutable std::mutex mutex_;
  std::unordered_map<const Session*, std::weak_ptr<Session>> live_;
  std::size_t max_;
  bool draining_ = false;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket&& socket, boost::asio::ssl::context& tls,
          const Router& router, const Limits& limits, ConnectionRegistry& registry);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  void run();
  // Thread-safe: an idle connection closes now, a busy one after its current response.
  void drain();

 private:
  void on_handshake(boost::beast::error_code ec);
  void read_request();
  void on_header(boost::beast::error_code ec, std::size_t bytes);
  void on_body(boost::beast::error_code ec, std::size_t bytes);
  void on_read_error(boost::beast::error_code ec);
  void handle_request();
  void send(Response res, bool close, const Context& ctx, std::string_view method);
  void on_write(bool close, boost::beast::error_code ec, std::size_t bytes);
  void shutdown_tls();
  void close_socket();

  boost::beast::ssl_stream<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;  // owned here until async_write completes
  Request request_;    // owned here until its response is sent (handlers may answer later)
  Context context_;
  const Router& router_;
  const Limits& limits_;
  ConnectionRegistry& registry_;
  std::chrono::steady_clock::time_point request_start_;
  bool waiting_for_request_ = false;  // idle between requests: safe to close on drain
  bool draining_ = false;
};

}  // namespace encore::api
