#include "tests/reminders/webhook_receiver.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <stdexcept>

#include "api/tls.h"
#include "api/webhook_client.h"
#include "ledger/hash.h"

namespace encore::test {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

struct WebhookReceiver::Impl {
  net::io_context ioc;
  ssl::context tls{ssl::context::tls_server};
  tcp::acceptor acceptor{ioc};
  std::atomic<bool> stopping{false};
};

WebhookReceiver::WebhookReceiver(std::string cert_dir, std::string secret)
    : secret_(std::move(secret)), impl_(std::make_unique<Impl>()) {
  auto files = api::ensure_dev_certificate(cert_dir + "/receiver.db");
  if (!files) throw std::runtime_error("cannot make the receiver certificate");
  ca_file_ = files->cert_path;  // self-signed: the certificate is its own CA
  impl_->tls.use_certificate_chain_file(files->cert_path);
  impl_->tls.use_private_key_file(files->key_path, ssl::context::pem);
  tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(net::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen();
  port_ = impl_->acceptor.local_endpoint().port();
  thread_ = std::thread([this] {
    while (!impl_->stopping) {
      tcp::socket socket(impl_->ioc);
      beast::error_code ec;
      impl_->acceptor.accept(socket, ec);
      if (impl_->stopping) return;
      if (ec) continue;
      try {
        serve_one(&socket);
      } catch (const std::exception&) {
        // a client that went away (e.g. the killed server) is not the test's concern
      }
    }
  });
}

WebhookReceiver::~WebhookReceiver() {
  impl_->stopping = true;
  // Wake the blocking accept with a connection of our own.
  try {
    net::io_context ioc;
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  } catch (const std::exception&) {
  }
  if (thread_.joinable()) thread_.join();
}

void WebhookReceiver::set_policy(std::function<unsigned(const nlohmann::json&, int)> policy) {
  std::lock_guard lock(mutex_);
  policy_ = std::move(policy);
}

void WebhookReceiver::serve_one(void* raw) {
  auto& socket = *static_cast<tcp::socket*>(raw);
  beast::ssl_stream<tcp::socket&> stream(socket, impl_->tls);
  stream.handshake(ssl::stream_base::server);
  beast::flat_buffer buffer;
  http::request<http::string_body> req;
  http::read(stream, buffer, req);
  const unsigned status = decide(std::string(req["X-Encore-Signature"]), req.body());
  if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
  http::response<http::string_body> res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "text/plain");
  res.body() = status < 300 ? "ok" : "no";
  res.keep_alive(false);
  res.prepare_payload();
  http::write(stream, res);
  beast::error_code ec;
  stream.shutdown(ec);
}

unsigned WebhookReceiver::decide(const std::string& signature, const std::string& body) {
  std::lock_guard lock(mutex_);
  ++counts_.requests;
  // t=UNIX,v1=HEX: recompute the HMAC over "UNIX.BODY" and compare in constant time.
  const auto comma = signature.find(",v1=");
  bool good = signature.starts_with("t=") && comma != std::string::npos;
  if (good) {
    const std::int64_t t = std::stoll(signature.substr(2, comma - 2));
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    good = std::llabs(now - t) <= 300 &&
           constant_time_equal(api::webhook_signature(secret_, t, body), signature);
  }
  if (!good) {
    ++counts_.bad_signatures;
    changed_.notify_all();
    return 401;
  }
  auto doc = nlohmann::json::parse(body);
  const std::string id = doc.at("reminder_id");
  const int attempt = ++attempts_[id];
  const unsigned status = policy_ ? policy_(doc, attempt) : 200;
  if (status >= 200 && status < 300) {
    ++counts_.accepted;
    if (!accepted_.emplace(id, doc).second) ++counts_.duplicates;
  }
  changed_.notify_all();
  return status;
}

WebhookReceiver::Counts WebhookReceiver::counts() const {
  std::lock_guard lock(mutex_);
  return counts_;
}

std::map<std::string, nlohmann::json> WebhookReceiver::accepted() const {
  std::lock_guard lock(mutex_);
  return accepted_;
}

std::map<std::string, int> WebhookReceiver::attempts() const {
  std::lock_guard lock(mutex_);
  return attempts_;
}

bool WebhookReceiver::wait_accepted(std::size_t unique, std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return accepted_.size() >= unique; });
}

}  // namespace encore::test
