// Structured logs (api/log.h): under concurrent I/O threads every line reaches stderr whole, one
// JSON object per line, and a line longer than PIPE_BUF too.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "api/log.h"

using namespace encore::api;

namespace {

// Sends this process's stderr to `path` for the object's lifetime: straight into the file, or
// through a pipe whose reader is slow (small reads with pauses), so that the pipe fills and a
// write larger than PIPE_BUF is split by the kernel.
class StderrRedirect {
 public:
  StderrRedirect(const std::string& path, bool through_slow_pipe) : saved_(::dup(STDERR_FILENO)) {
    const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(file >= 0);
    if (!through_slow_pipe) {
      REQUIRE(::dup2(file, STDERR_FILENO) == STDERR_FILENO);
      ::close(file);
      return;
    }
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    REQUIRE(::dup2(fds[1], STDERR_FILENO) == STDERR_FILENO);
    ::close(fds[1]);
    reader_ = std::thread([read_end = fds[0], file] {
      char buf[512];
      for (long n = 0;; ++n) {
        const ssize_t got = ::read(read_end, buf, sizeof buf);
        if (got <= 0) break;
        REQUIRE(::write(file, buf, static_cast<std::size_t>(got)) == got);
        if (n % 64 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      ::close(read_end);
      ::close(file);
    });
  }
  ~StderrRedirect() {
    ::dup2(saved_, STDERR_FILENO);  // closes the pipe's last write end: the reader sees EOF
    ::close(saved_);
    if (reader_.joinable()) reader_.join();
  }
  StderrRedirect(const StderrRedirect&) = delete;
  StderrRedirect& operator=(const StderrRedirect&) = delete;

 private:
  int saved_;
  std::thread reader_;
};

}  // namespace

TEST_CASE("log lines from concurrent threads reach stderr whole", "[log]") {
  const bool through_slow_pipe = GENERATE(false, true);
  INFO("through a slow pipe: " << through_slow_pipe);
  const auto path =
      (std::filesystem::temp_directory_path() / ("encore-log-test-" + std::to_string(::getpid())))
          .string();
  constexpr int threads = 4;
  constexpr int lines_per_thread = 2000;
  const std::string long_value(6000, 'x');  // past PIPE_BUF: written under the lock
  {
    StderrRedirect redirect(path, through_slow_pipe);
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([t, &long_value] {
        const std::string request_id = "thread-" + std::to_string(t);
        for (int i = 0; i < lines_per_thread; ++i) {
          log_access({request_id, "GET", "/v1/members/{member_id}/balance", 200, i, "pos-1"});
          if (i % 500 == 0) log_info("long", {{"thread", t}, {"value", long_value}});
        }
      });
    }
    for (auto& w : workers) w.join();
  }
  std::ifstream in(path);
  std::string line;
  std::map<std::string, int> access_lines;  // request_id -> lines seen, in order
  int long_lines = 0;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    REQUIRE_FALSE(parsed.is_discarded());
    if (parsed["msg"] == "long") {
      CHECK(parsed["value"] == long_value);
      ++long_lines;
      continue;
    }
    REQUIRE(parsed["msg"] == "request");
    const std::string id = parsed["request_id"];
    // Each thread's lines keep their order: latency_us counts up per thread.
    CHECK(parsed["latency_us"] == access_lines[id]);
    ++access_lines[id];
    CHECK(parsed["key_name"] == "pos-1");
  }
  CHECK(lines == threads * lines_per_thread + threads * (lines_per_thread / 500));
  CHECK(long_lines == threads * (lines_per_thread / 500));
  for (int t = 0; t < threads; ++t) CHECK(access_lines["thread-" + std::to_string(t)] == 2000);
  std::filesystem::remove(path);
}
