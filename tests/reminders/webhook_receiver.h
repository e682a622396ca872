// A test HTTPS webhook receiver on loopback: checks X-Encore-Signature, fails chosen attempts,
// and counts what it accepted, deduplicating by reminder_id like a real integrator would.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace encore::test {

class WebhookReceiver {
 public:
  // `cert_dir`: where the self-signed certificate (its own CA) is written.
  WebhookReceiver(std::string cert_dir, std::string secret);
  ~WebhookReceiver();

  std::uint16_t port() const { return port_; }
  std::string url() const { return "https://localhost:" + std::to_string(port_) + "/hook"; }
  const std::string& ca_file() const { return ca_file_; }

  // Decides the status for a body whose signature checked: default 200.
  void set_policy(std::function<unsigned(const nlohmann::json& body, int attempt)> policy);
  void set_delay(std::chrono::milliseconds delay) { delay_ = delay; }

  struct Counts {
    std::size_t requests = 0;
    std::size_t bad_signatures = 0;
    std::size_t accepted = 0;    // 2xx answers, duplicates included
    std::size_t duplicates = 0;  // accepted again after a first acceptance
  };
  Counts counts() const;
  std::map<std::string, nlohmann::json> accepted() const;  // by reminder_id
  std::map<std::string, int> attempts() const;             // by reminder_id
  bool wait_accepted(std::size_t unique, std::chrono::milliseconds timeout) const;

 private:
  struct Impl;
  void serve_one(void* socket);
  unsigned decide(const std::string& signature, const std::string& body);

  std::string secret_;
  std::string ca_file_;
  std::uint16_t port_ = 0;
  std::chrono::milliseconds delay_{0};
  std::function<unsigned(const nlohmann::json&, int)> policy_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  Counts counts_;
  std::map<std::string, nlohmann::json> accepted_;
  std::map<std::string, int> attempts_;
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
};

}  // namespace encore::test
