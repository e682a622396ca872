#include "api/session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "api/log.h"
#include "api/metrics.h"
#include "api/problem.h"

namespace encore::api {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;

// Peers vanishing is ordinary traffic, not something to log above debug.
bool is_ordinary_disconnect(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::ssl::error::stream_truncated || ec == net::error::operation_aborted ||
         ec == beast::error::timeout || ec == net::error::connection_reset ||
         ec == net::error::broken_pipe || ec == net::error::not_connected;
}

bool is_http_error(const beast::error_code& ec) {
  return ec.category() == make_error_code(http::error::bad_target).category();
}

}  // namespace

bool ConnectionRegistry::try_add(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(mutex_);
  if (draining_ || live_.size() >= max_) return false;
  live_.emplace(session.get(), session);
  return true;
}

void ConnectionRegistry::remove(const Session* session) {
  std::lock_guard lock(mutex_);
  live_.erase(session);
}

std::size_t ConnectionRegistry::size() const {
  std::lock_guard lock(mutex_);
  return live_.size();
}

void ConnectionRegistry::drain_all() {
  std::vector<std::shared_ptr<Session>> sessions;
  {
    std::lock_guard lock(mutex_);
    draining_ = true;
    for (auto& [ptr, weak] : live_) {
      if (auto s = weak.lock()) sessions.push_back(std::move(s));
    }
  }
  // Outside the lock: drain() may run the session's last handler and so call remove().
  for (auto& s : sessions) s->drain();
}

Session::Session(net::ip::tcp::socket&& socket, net::ssl::context& tls, const Router& router,
                 const Limits& limits, ConnectionRegistry& registry)
    : stream_(std::move(socket), tls), router_(router), limits_(limits), registry_(registry) {}

Session::~Session() {
  registry_.remove(this);
}

void Session::run() {
  // The socket was accepted on this session's strand; dispatch keeps every step on it.
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    beast::get_lowest_layer(self->stream_).expires_after(self->limits_.handshake_timeout);
    self->stream_.async_handshake(
        net::ssl::stream_base::server,
        beast::bind_front_handler(&Session::on_handshake, self->shared_from_this()));
  });
}

void Session::drain() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
    self->draining_ = true;
    if (self->waiting_for_request_) beast::get_lowest_layer(self->stream_).cancel();
  });
}

void Session::on_handshake(beast::error_code ec) {
  if (ec) {
    // Plain HTTP on the TLS port, old protocol versions, scanners: refuse and move on.
    log_debug("tls handshake failed", {{"error", ec.message()}});
    return close_socket();
  }
  read_request();
}

void Session::read_request() {
  if (draining_) return shutdown_tls();
  parser_.emplace();
  parser_->body_limit(limits_.body_limit_bytes);
  parser_->header_limit(static_cast<std::uint32_t>(limits_.header_limit_bytes));
  beast::get_lowest_layer(stream_).expires_after(limits_.idle_timeout);
  waiting_for_request_ = true;
  http::async_read_header(stream_, buffer_, *parser_,
                          beast::bind_front_handler(&Session::on_header, shared_from_this()));
}

void Session::on_header(beast::error_code ec, std::size_t /*bytes*/) {
  waiting_for_request_ = false;
  request_start_ = std::chrono::steady_clock::now();
  if (ec) return on_read_error(ec);
  if (parser_->is_done()) return handle_request();
  beast::get_lowest_layer(stream_).expires_after(limits_.read_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   beast::bind_front_handler(&Session::on_body, shared_from_this()));
}

void Session::on_body(beast::error_code ec, std::size_t /*bytes*/) {
  if (ec) return on_read_error(ec);
  handle_request();
}

void Session::on_read_error(beast::error_code ec) {
  Context ctx;
  ctx.request_id = new_request_id();
  const std::string method = parser_ ? std::string(parser_->get().method_string()) : "";
  if (ec == http::error::body_limit) {
    const auto detail =
        "request body exceeds " + std::to_string(limits_.body_limit_bytes) + " bytes";
    return send(problem_response(make_error(ErrorCode::payload_too_large, "", detail)), true, ctx,
                method);
  }
  if (ec == http::error::header_limit) {
    const auto detail =
        "request header exceeds " + std::to_string(limits_.header_limit_bytes) + " bytes";
    return send(problem_response(make_error(ErrorCode::invalid_request, "headers", detail)), true,
                ctx, method);
  }
  if (is_http_error(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return send(
        problem_response(make_error(ErrorCode::invalid_request, "", "malformed HTTP request")),
        true, ctx, method);
  }
  if (!is_ordinary_disconnect(ec)) log_debug("read failed", {{"error", ec.message()}});
  close_socket();
}

void Session::handle_request() {
  request_ = parser_->release();
  context_ = Context{};
  context_.request_id = new_request_id();
  // The handler may answer from another thread (the writer, after a group commit): hop back onto
  // this session's strand before touching the stream. One request at a time per connection, so
  // request_ and context_ stay put until the response is sent.
  router_.handle_async(request_, context_, [self = shared_from_this()](Response res) {
    net::dispatch(self->stream_.get_executor(), [self, res = std::move(res)]() mutable {
      self->send(std::move(res), !self->request_.keep_alive() || self->draining_, self->context_,
                 self->request_.method_string());
    });
  });
}

void Session::send(Response res, bool close, const Context& ctx, std::string_view method) {
  res.version(11);
  res.keep_alive(!close);
  res.set("X-Request-Id", ctx.request_id);
  res.prepare_payload();
  const auto latency = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - request_start_);
  metrics().observe(method, ctx.route_pattern, res.result_int(), latency);
  // The access log names the route pattern, never the raw target (it may carry member ids) and
  // never headers or bodies (Authorization, personal data).
  log_access({ctx.request_id, method, ctx.route_pattern, static_cast<int>(res.result_int()),
              static_cast<long long>(latency.count()), ctx.key_name});
  response_ = std::move(res);
  beast::get_lowest_layer(stream_).expires_after(limits_.read_timeout);
  http::async_write(stream_, response_,
                    beast::bind_front_handler(&Session::on_write, shared_from_this(), close));
}

void Session::on_write(bool close, beast::error_code ec, std::size_t /*bytes*/) {
  response_ = {};
  if (ec) {
    if (!is_ordinary_disconnect(ec)) log_debug("write failed", {{"error", ec.message()}});
    return close_socket();
  }
  if (close) return shutdown_tls();
  read_request();
}

void Session::shutdown_tls() {
  // close_notify, bounded: a peer that never answers it is cut off by the timer.
  beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
  stream_.async_shutdown([self = shared_from_this()](beast::error_code) { self->close_socket(); });
}

void Session::close_socket() {
  beast::error_code ignored;
  auto& socket = beast::get_lowest_layer(stream_).socket();
  socket.shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace encore::api
