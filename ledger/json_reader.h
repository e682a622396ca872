// Strict JSON walking for configuration files: every value is read through these helpers so that
// each error names its JSON path (`tiers[1].multiplier_bp`) and unknown keys are never ignored.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/result.h"

namespace encore {

// An error, or nothing. Reads as `if (auto failure = read(...)) return *failure;`.
using Failure = std::optional<Error>;

Error invalid_field(std::string field, std::string detail);

// `parent.key`, or just `key` at the top level.
std::string child_path(std::string_view parent, std::string_view key);
// `parent[index]`.
std::string index_path(std::string_view parent, std::size_t index);

// A JSON integer (not a float, string or bool) in [min, max].
Failure read_integer(const nlohmann::json& value, const std::string& path, std::int64_t min,
                     std::int64_t max, std::int64_t& out);
Failure read_integer(const nlohmann::json& value, const std::string& path, std::int64_t min,
                     std::int64_t max, int& out);
// A JSON string whose length in bytes lies in [min_bytes, max_bytes].
Failure read_string(const nlohmann::json& value, const std::string& path, std::size_t min_bytes,
                    std::size_t max_bytes, std::string& out);
// A JSON array of at most max_items elements.
Failure check_array(const nlohmann::json& value, const std::string& path, std::size_t max_items);

// Parses JSON text, refusing duplicate object keys (nlohmann would silently keep the last one, so
// `"currency"` given twice would be read as whichever came later). Errors name field "" for
// syntax errors and the duplicated key's path otherwise.
Result<nlohmann::json> parse_json_strict(std::string_view text);

enum class Presence { required, optional };

// Reads the keys of one JSON object, remembering which were consumed, so that `finish()` can
// report the first key nobody asked for. Optional values that are absent leave `out` untouched
// (the struct's default applies).
class ObjectReader {
 public:
  static Result<ObjectReader> open(const nlohmann::json& value, std::string path);

  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const { return child_path(path_, key); }

  // The value under key, marked consumed; nullptr when absent.
  const nlohmann::json* take(std::string_view key);
  // Like take(), but an absent key is an error naming it.
  Result<const nlohmann::json*> take_required(std::string_view key);

  template <class Int>
  Failure integer(std::string_view key, Presence presence, std::int64_t min, std::int64_t max,
                  Int& out) {
    auto found = fetch(key, presence);
    if (!found) return found.error();
    if (*found == nullptr) return std::nullopt;
    return read_integer(**found, path_of(key), min, max, out);
  }
  Failure string(std::string_view key, Presence presence, std::size_t min_bytes,
                 std::size_t max_bytes, std::string& out);

  // The first unconsumed key, as an error; nothing when every key was read.
  Failure finish() const;

 private:
  ObjectReader(const nlohmann::json& object, std::string path)
      : object_(&object), path_(std::move(path)) {}
  Result<const nlohmann::json*> fetch(std::string_view key, Presence presence);

  const nlohmann::json* object_;
  std::string path_;
  std::set<std::string, std::less<>> consumed_;
};

}  // namespace encore
