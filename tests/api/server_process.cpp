#include "tests/api/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

extern char** environ;

namespace encore::test {
namespace {

std::filesystem::path make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "encore-api-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

// The program file is not parsed by the server yet; a placeholder keeps --program meaningful
// until examples/program.json exists in this branch.
std::string resolve_program(const ServerOptions& options, const std::filesystem::path& dir) {
  if (!options.program_path.empty()) return options.program_path;
  const std::filesystem::path repo_program = ENCORE_DEFAULT_PROGRAM;
  if (std::filesystem::exists(repo_program)) return repo_program.string();
  const auto placeholder = dir / "program.json";
  std::ofstream(placeholder) << R"({"name": "test placeholder", "currency": "EUR"})" << '\n';
  return placeholder.string();
}

std::vector<std::string> build_env(const ServerOptions& options) {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view entry(*e);
    bool overridden = false;
    for (const auto& [name, value] : options.env) overridden |= entry.starts_with(name + "=");
    // An operator's ENCORE_* settings must not leak into a hermetic test.
    if (!overridden && !entry.starts_with("ENCORE_")) env.emplace_back(entry);
  }
  bool self_check_set = false;
  for (const auto& [name, value] : options.env) {
    env.push_back(name + "=" + value);
    self_check_set |= name == "ENCORE_CACHE_SELF_CHECK";
  }
  // Every end-to-end test also checks the member cache: each state it publishes is compared with
  // the database after the commit, and a difference aborts the server (the test then fails).
  if (!self_check_set) env.emplace_back("ENCORE_CACHE_SELF_CHECK=1");
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Port from a JSON log line whose msg is "listening on HOST:PORT"; 0 when not that line.
std::uint16_t port_from_line(std::string_view line) {
  const auto doc = nlohmann::json::parse(line, nullptr, false);
  if (!doc.is_object() || !doc.contains("msg") || !doc["msg"].is_string()) return 0;
  const std::string msg = doc["msg"];
  if (!msg.starts_with("listening on ")) return 0;
  return static_cast<std::uint16_t>(std::stoul(msg.substr(msg.rfind(':') + 1)));
}

}  // namespace

ServerProcess::ServerProcess(ServerOptions options) : dir_(make_temp_dir()) {
  // A throwing constructor gets no destructor call: clean up the child, thread and dir here.
  try {
    spawn(options, resolve_program(options, dir_));
    wait_for_port(options.start_timeout);
  } catch (...) {
    cleanup();
    throw;
  }
}

void ServerProcess::wait_for_port(std::chrono::milliseconds start_timeout) {
  const auto deadline = std::chrono::steady_clock::now() + start_timeout;
  std::unique_lock lock(mutex_);
  std::size_t scanned = 0;
  while (port_ == 0) {
    for (auto eol = output_.find('\n', scanned); eol != std::string::npos;
         eol = output_.find('\n', scanned)) {
      if (port_ == 0)
        port_ = port_from_line(std::string_view(output_).substr(scanned, eol - scanned));
      scanned = eol + 1;
    }
    if (port_ != 0) break;
    if (output_closed_ || !output_changed_.wait_until(lock, deadline, [&] {
          return output_closed_ || output_.find('\n', scanned) != std::string::npos;
        })) {
      const std::string text = output_;
      throw std::runtime_error("encore-server did not report `listening on`; output:\n" + text);
    }
  }
}

ServerProcess::~ServerProcess() {
  cleanup();
}

void ServerProcess::cleanup() {
  kill9();
  if (reader_.joinable()) reader_.join();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

void ServerProcess::spawn(const ServerOptions& options, const std::string& program_path) {
  std::vector<std::string> args{ENCORE_SERVER_BIN,  "--listen",  "127.0.0.1:0", "--db",
                                db_path().string(), "--program", program_path};
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  std::vector<std::string> env = build_env(options);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  auto argv = c_strings(args);
  auto envp = c_strings(env);
  const int rc = ::posix_spawn(&pid_, args[0].c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    pid_ = -1;
    throw std::runtime_error("cannot spawn " + args[0]);
  }
  reader_ = std::thread([this, fd = fds[0]] { read_loop(fd); });
}

void ServerProcess::read_loop(int fd) {
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    std::lock_guard lock(mutex_);
    if (n <= 0) {
      output_closed_ = true;
      output_changed_.notify_all();
      break;
    }
    output_.append(buf, static_cast<std::size_t>(n));
    output_changed_.notify_all();
  }
  ::close(fd);
}

int ServerProcess::wait_child(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_status_;
}

int ServerProcess::terminate(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return exit_status_;
  ::kill(pid_, SIGTERM);
  const int status = wait_child(timeout);
  if (status >= 0) return status;
  kill9();
  return exit_status_;
}

void ServerProcess::kill9() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  wait_child(std::chrono::milliseconds(60'000));
}

std::string ServerProcess::output() const {
  std::lock_guard lock(mutex_);
  return output_;
}

bool ServerProcess::wait_for_output(std::string_view needle,
                                    std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return output_changed_.wait_for(lock, timeout, [&] {
    return output_.find(needle) != std::string::npos || output_closed_;
  }) && output_.find(needle) != std::string::npos;
}

}  // namespace encore::test
