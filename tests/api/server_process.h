// Runs the real encore-server binary for end-to-end tests: a temp directory, port 0, and the
// bound port read back from the `listening on` log line. RAII: the destructor kills the child.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace encore::test {

struct ServerOptions {
  std::vector<std::string> extra_args;                   // appended after the defaults
  std::vector<std::pair<std::string, std::string>> env;  // added to (or replacing) environ
  std::string program_path;  // empty: the repo's examples/program.json, or a placeholder
  std::chrono::milliseconds start_timeout{20'000};  // sanitizer builds start slowly
};

class ServerProcess {
 public:
  // Starts the server and waits for `listening on`; throws std::runtime_error (with the
  // collected stderr) if it exits or does not listen in time.
  explicit ServerProcess(ServerOptions options = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  pid_t pid() const { return pid_; }
  std::uint16_t port() const { return port_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path db_path() const { return dir_ / "encore.db"; }

  // SIGTERM, then waits (SIGKILL after `timeout`). Returns the exit status, or 128 + signal
  // when the child died from a signal, like a shell.
  int terminate(std::chrono::milliseconds timeout = std::chrono::milliseconds(20'000));
  void kill9();
  bool running() const { return pid_ > 0; }

  // Everything the child wrote to stderr (and stdout) so far.
  std::string output() const;
  // Waits until `needle` appears in the output; false on timeout.
  bool wait_for_output(std::string_view needle, std::chrono::milliseconds timeout) const;

 private:
  void spawn(const ServerOptions& options, const std::string& program_path);
  void wait_for_port(std::chrono::milliseconds start_timeout);
  void read_loop(int fd);
  void cleanup();
  int wait_child(std::chrono::milliseconds timeout);

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  int exit_status_ = -1;
  std::thread reader_;
  mutable std::mutex mutex_;
  mutable std::condition_variable output_changed_;
  std::string output_;
  bool output_closed_ = false;
};

}  // namespace encore::test
