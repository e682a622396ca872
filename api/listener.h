// Accepts TCP connections and hands each to a Session, within max_connections.
#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "api/config.h"
#include "api/router.h"
#include "api/session.h"
#include "ledger/result.h"

namespace encore::api {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(boost::asio::io_context& ioc, boost::asio::ssl::context& tls, const Router& router,
           const Limits& limits, ConnectionRegistry& registry);

  // Binds and listens; returns the bound endpoint (the real port when `port` is 0).
  Result<boost::asio::ip::tcp::endpoint> open(const std::string& host, std::uint16_t port);
  void run();
  // Thread-safe: stops accepting (closes the listening socket).
  void stop();

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& ioc_;
  boost::asio::ssl::context& tls_;
  const Router& router_;
  const Limits& limits_;
  ConnectionRegistry& registry_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  bool refusing_ = false;  // logs one warning per overload episode, not one per connection
};

// "127.0.0.1:8443" or "[::1]:8443".
std::string endpoint_text(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace encore::api
