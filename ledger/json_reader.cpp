#include "ledger/json_reader.h"

#include <algorithm>
#include <limits>

namespace encore {

using nlohmann::json;

Error invalid_field(std::string field, std::string detail) {
  return Error{ErrorCode::invalid_request, std::move(field), std::move(detail)};
}

std::string child_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string path(parent);
  path += '.';
  path += key;
  return path;
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + '[' + std::to_string(index) + ']';
}

Failure read_integer(const json& value, const std::string& path, std::int64_t min, std::int64_t max,
                     std::int64_t& out) {
  // is_number_integer() is false for floats (even `1.0`), strings and booleans.
  if (!value.is_number_integer()) {
    return invalid_field(path, std::string("must be an integer, not ") + value.type_name());
  }
  const bool too_large = value.is_number_unsigned() &&
                         value.get<std::uint64_t>() >
                             static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  const std::int64_t number =
      too_large ? std::numeric_limits<std::int64_t>::max() : value.get<std::int64_t>();
  if (too_large || number < min || number > max) {
    return invalid_field(path,
                         "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  out = number;
  return std::nullopt;
}

Failure read_integer(const json& value, const std::string& path, std::int64_t min, std::int64_t max,
                     int& out) {
  assert(min >= std::numeric_limits<int>::min() && max <= std::numeric_limits<int>::max() &&
         "int field with bounds wider than int");
  std::int64_t wide = 0;
  if (auto failure = read_integer(value, path, min, max, wide)) return failure;
  out = static_cast<int>(wide);
  return std::nullopt;
}

Failure read_string(const json& value, const std::string& path, std::size_t min_bytes,
                    std::size_t max_bytes, std::string& out) {
  if (!value.is_string()) {
    return invalid_field(path, std::string("must be a string, not ") + value.type_name());
  }
  const auto& text = value.get_ref<const std::string&>();
  if (text.size() < min_bytes) {
    return invalid_field(path, min_bytes == 1
                                   ? "must not be empty"
                                   : "must be at least " + std::to_string(min_bytes) + " bytes");
  }
  if (text.size() > max_bytes) {
    return invalid_field(path, "must be at most " + std::to_string(max_bytes) + " bytes");
  }
  out = text;
  return std::nullopt;
}

Failure check_array(const json& value, const std::string& path, std::size_t max_items) {
  if (!value.is_array()) {
    return invalid_field(path, std::string("must be an array, not ") + value.type_name());
  }
  if (value.size() > max_items) {
    return invalid_field(path, "must have at most " + std::to_string(max_items) + " items");
  }
  return std::nullopt;
}

namespace {

// Tracks the path of the container being parsed, for the parser callback below.
struct Frame {
  std::string path;
  bool is_array = false;
  std::size_t next_index = 0;
  std::string key;
  std::set<std::string, std::less<>> keys;
};

std::string next_child_path(std::vector<Frame>& frames) {
  if (frames.empty()) return "";
  Frame& top = frames.back();
  if (top.is_array) return index_path(top.path, top.next_index++);
  return child_path(top.path, top.key);
}

// Encore's documents (request bodies, program.json) nest only a few levels.
constexpr std::size_t max_json_nesting = 64;

// Deepest container nesting in `text` (brackets inside strings do not count). O(n), no allocation.
std::size_t max_nesting(std::string_view text) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

}  // namespace

Result<json> parse_json_strict(std::string_view text) {
  // The path tracking below costs O(depth^2): without this bound a 64 KiB body of `[` took
  // 7 GB and 86 s of CPU in the server.
  if (max_nesting(text) > max_json_nesting) {
    return invalid_field("",
                         "JSON nested deeper than " + std::to_string(max_json_nesting) + " levels");
  }
  std::vector<Frame> frames;
  std::optional<std::string> duplicate;
  json::parser_callback_t track = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        frames.push_back(
            Frame{next_child_path(frames), event == json::parse_event_t::array_start, 0, {}, {}});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        frames.pop_back();
        break;
      case json::parse_event_t::key:
        frames.back().key = parsed.get<std::string>();
        if (!frames.back().keys.insert(frames.back().key).second && !duplicate) {
          duplicate = child_path(frames.back().path, frames.back().key);
        }
        break;
      case json::parse_event_t::value:
        if (!frames.empty() && frames.back().is_array) ++frames.back().next_index;
        break;
    }
    return true;
  };
  json document;
  try {
    document = json::parse(text, track);
  } catch (const json::parse_error& e) {
    return invalid_field("", std::string("not valid JSON: ") + e.what());
  }
  if (duplicate) return invalid_field(*duplicate, "duplicate key");
  return document;
}

Result<ObjectReader> ObjectReader::open(const json& value, std::string path) {
  if (!value.is_object()) {
    return invalid_field(std::move(path),
                         std::string("must be an object, not ") + value.type_name());
  }
  return ObjectReader(value, std::move(path));
}

const json* ObjectReader::take(std::string_view key) {
  auto it = object_->find(key);
  if (it == object_->end()) return nullptr;
  consumed_.emplace(key);
  return &*it;
}

Result<const json*> ObjectReader::take_required(std::string_view key) {
  return fetch(key, Presence::required);
}

Result<const json*> ObjectReader::fetch(std::string_view key, Presence presence) {
  const json* value = take(key);
  if (value == nullptr && presence == Presence::required) {
    return invalid_field(path_of(key), "is required");
  }
  return value;
}

Failure ObjectReader::string(std::string_view key, Presence presence, std::size_t min_bytes,
                             std::size_t max_bytes, std::string& out) {
  auto found = fetch(key, presence);
  if (!found) return found.error();
  if (*found == nullptr) return std::nullopt;
  return read_string(**found, path_of(key), min_bytes, max_bytes, out);
}

Failure ObjectReader::finish() const {
  for (const auto& item : object_->items()) {
    if (!consumed_.contains(item.key())) return invalid_field(path_of(item.key()), "unknown key");
  }
  return std::nullopt;
}

}  // namespace encore
