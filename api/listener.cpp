#include "api/listener.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>

#include "api/log.h"

namespace encore::api {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Error listen_error(const std::string& what, const boost::system::error_code& ec) {
  return make_error(ErrorCode::internal, "listen", what + ": " + ec.message());
}

}  // namespace

std::string endpoint_text(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  const std::string host = address.is_v6() ? "[" + address.to_string() + "]" : address.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

Listener::Listener(net::io_context& ioc, net::ssl::context& tls, const Router& router,
                   const Limits& limits, ConnectionRegistry& registry)
    : ioc_(ioc),
      tls_(tls),
      router_(router),
      limits_(limits),
      registry_(registry),
      acceptor_(net::make_strand(ioc)),
      retry_timer_(acceptor_.get_executor()) {}

Result<tcp::endpoint> Listener::open(const std::string& host, std::uint16_t port) {
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  const auto address = net::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, port);
  } else {
    tcp::resolver resolver(ioc_);
    const auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) return listen_error("cannot resolve " + host, ec);
    endpoint = *results.begin();
  }
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return listen_error("open", ec);
  acceptor_.set_option(net::socket_base::reuse_address(true), ec);
  if (ec) return listen_error("set reuse_address", ec);
  acceptor_.bind(endpoint, ec);
  if (ec) return listen_error("bind " + endpoint_text(endpoint), ec);
  acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return listen_error("listen", ec);
  auto bound = acceptor_.local_endpoint(ec);
  if (ec) return listen_error("local_endpoint", ec);
  return bound;
}

void Listener::run() {
  net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
}

void Listener::stop() {
  net::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
}

void Listener::do_accept() {
  if (!acceptor_.is_open()) return;
  // Each connection gets its own strand: its handlers never run concurrently.
  acceptor_.async_accept(net::make_strand(ioc_), boost::beast::bind_front_handler(
                                                     &Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // EMFILE and friends: pause briefly instead of spinning on a failing accept.
    log_warn("accept failed", {{"error", ec.message()}});
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
      if (!wait_ec) self->do_accept();
    });
    return;
  }
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // small responses must not wait for Nagle
  auto session = std::make_shared<Session>(std::move(socket), tls_, router_, limits_, registry_);
  if (registry_.try_add(session)) {
    refusing_ = false;
    session->run();
  } else if (!refusing_) {
    // Closing before the handshake is the cheapest refusal; the destructor closes the socket.
    refusing_ = true;
    log_warn("connection limit reached; refusing new connections",
             {{"max_connections", limits_.max_connections}});
  }
  do_accept();
}

}  // namespace encore::api
