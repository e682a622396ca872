// Runs the real encore-admin binary for the tools tests: in a temp directory, with the test's
// environment minus ENCORE_* (so defaults are the binary's own), stdout and stderr captured.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace encore::test {

struct Run {
  int code = -1;
  std::string out;
  std::string err;
};

// A fresh directory, removed with everything in it at the end of the scope.
struct TempDir {
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  std::filesystem::path path;
};

std::string slurp(const std::filesystem::path& p);

// The test's environment minus ENCORE_* variables, plus `extra` ("NAME=value").
std::vector<std::string> base_env(const std::vector<std::string>& extra);

// argv/envp views of `v` (null-terminated); `v` must outlive them.
std::vector<char*> c_strings(std::vector<std::string>& v);

// Runs encore-admin with `args` in `dir` (stdin /dev/null) and waits for it.
Run admin(const TempDir& dir, std::vector<std::string> args,
          const std::vector<std::string>& extra_env = {});

}  // namespace encore::test
