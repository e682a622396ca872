#include "api/config.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace encore::api {
namespace {

using Setter = Result<Unit> (*)(Config&, const std::string& text);

// One row per setting: the file key, the environment variable and the flag name all live here,
// so the three sources cannot drift apart.
struct Setting {
  std::string_view key;   // config-file key ("limits.x" for keys nested under "limits")
  std::string_view env;   // ENCORE_* variable
  std::string_view flag;  // command-line flag, empty when there is none
  bool numeric;           // file value must be a JSON number (else a string)
  Setter apply;
};

Error bad(std::string_view field, std::string detail) {
  return make_error(ErrorCode::invalid_request, std::string(field), std::move(detail));
}

std::optional<std::uint64_t> parse_uint(std::string_view text, std::uint64_t min,
                                        std::uint64_t max) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max)
    return std::nullopt;
  return value;
}

Result<Unit> set_listen(Config& c, const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad("listen", "expected HOST:PORT");
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')  // "[::1]:8443"
    host = host.substr(1, host.size() - 2);
  const auto port = parse_uint(std::string_view(text).substr(colon + 1), 0, 65535);
  if (!port) return bad("listen", "port must be 0..65535");
  c.listen_host = host;
  c.listen_port = static_cast<std::uint16_t>(*port);
  return Unit{};
}

template <std::string Config::*Member>
Result<Unit> set_text(Config& c, const std::string& text) {
  c.*Member = text;
  return Unit{};
}

template <std::size_t Limits::*Member, std::uint64_t Min, std::uint64_t Max>
Result<Unit> set_size(Config& c, const std::string& text) {
  const auto v = parse_uint(text, Min, Max);
  if (!v)
    return bad("", "must be an integer in " + std::to_string(Min) + ".." + std::to_string(Max));
  c.limits.*Member = static_cast<std::size_t>(*v);
  return Unit{};
}

template <std::chrono::seconds Limits::*Member>
Result<Unit> set_seconds(Config& c, const std::string& text) {
  const auto v = parse_uint(text, 1, 86'400);
  if (!v) return bad("", "must be a number of seconds in 1..86400");
  c.limits.*Member = std::chrono::seconds(*v);
  return Unit{};
}

Result<Unit> set_threads(Config& c, const std::string& text) {
  const auto v = parse_uint(text, 1, 256);
  if (!v) return bad("", "must be an integer in 1..256");
  c.worker_threads = static_cast<unsigned>(*v);
  return Unit{};
}

Result<Unit> set_cache_members(Config& c, const std::string& text) {
  const auto v = parse_uint(text, 0, 16'777'216);
  if (!v) return bad("", "must be an integer in 0..16777216");
  c.cache_members = static_cast<std::size_t>(*v);
  return Unit{};
}

Result<Unit> set_maintenance_chunk(Config& c, const std::string& text) {
  const auto v = parse_uint(text, 1, 1'000'000);
  if (!v) return bad("", "must be an integer in 1..1000000");
  c.maintenance_chunk_members = static_cast<std::size_t>(*v);
  return Unit{};
}

Result<Unit> set_idempotency_retention(Config& c, const std::string& text) {
  const auto v = parse_uint(text, 30, 36'500);
  if (!v) return bad("", "must be an integer in 30..36500 (SPEC 5 keeps keys at least 30 days)");
  c.idempotency_retention = std::chrono::days(*v);
  return Unit{};
}

Result<Unit> set_level(Config& c, const std::string& text) {
  const auto level = parse_log_level(text);
  if (!level) return bad("", "must be one of debug, info, warn, error");
  c.log_level = *level;
  return Unit{};
}

constexpr std::uint64_t kMaxBytes = 64ull << 20;

const Setting kSettings[] = {
    {"listen", "ENCORE_LISTEN", "--listen", false, set_listen},
    {"tls_cert", "ENCORE_TLS_CERT", "--tls-cert", false, set_text<&Config::tls_cert_path>},
    {"tls_key", "ENCORE_TLS_KEY", "--tls-key", false, set_text<&Config::tls_key_path>},
    {"db", "ENCORE_DB", "--db", false, set_text<&Config::db_path>},
    {"program", "ENCORE_PROGRAM", "--program", false, set_text<&Config::program_path>},
    {"worker_threads", "ENCORE_WORKER_THREADS", "", true, set_threads},
    {"log_level", "ENCORE_LOG_LEVEL", "", false, set_level},
    {"cache_members", "ENCORE_CACHE_MEMBERS", "", true, set_cache_members},
    {"maintenance_chunk_members", "ENCORE_MAINTENANCE_CHUNK_MEMBERS", "", true,
     set_maintenance_chunk},
    {"idempotency_retention_days", "ENCORE_IDEMPOTENCY_RETENTION_DAYS", "", true,
     set_idempotency_retention},
    {"limits.body_limit_bytes", "ENCORE_BODY_LIMIT_BYTES", "", true,
     set_size<&Limits::body_limit_bytes, 1, kMaxBytes>},
    {"limits.header_limit_bytes", "ENCORE_HEADER_LIMIT_BYTES", "", true,
     set_size<&Limits::header_limit_bytes, 1024, 1 << 20>},
    {"limits.handshake_timeout_seconds", "ENCORE_HANDSHAKE_TIMEOUT_SECONDS", "", true,
     set_seconds<&Limits::handshake_timeout>},
    {"limits.read_timeout_seconds", "ENCORE_READ_TIMEOUT_SECONDS", "", true,
     set_seconds<&Limits::read_timeout>},
    {"limits.idle_timeout_seconds", "ENCORE_IDLE_TIMEOUT_SECONDS", "", true,
     set_seconds<&Limits::idle_timeout>},
    {"limits.max_connections", "ENCORE_MAX_CONNECTIONS", "", true,
     set_size<&Limits::max_connections, 1, 1'000'000>},
    {"limits.shutdown_grace_seconds", "ENCORE_SHUTDOWN_GRACE_SECONDS", "", true,
     set_seconds<&Limits::shutdown_grace>},
};

// Runs a setter and names the setting in the error (setters do not know their own name).
Result<Unit> apply(const Setting& s, std::string_view source_name, Config& c,
                   const std::string& text) {
  auto r = s.apply(c, text);
  if (r) return r;
  return bad(source_name, std::string(source_name) + ": " + r.error().detail);
}

Result<Unit> apply_json_value(Config& c, const std::string& key, const nlohmann::json& value) {
  for (const auto& s : kSettings) {
    if (s.key != key) continue;
    if (s.numeric && !value.is_number_unsigned() && !value.is_number_integer())
      return bad(key, key + ": must be a number");
    if (!s.numeric && !value.is_string()) return bad(key, key + ": must be a string");
    return apply(s, key, c, s.numeric ? value.dump() : value.get<std::string>());
  }
  return bad(key, "unknown config key '" + key + "'");
}

Result<Unit> apply_file(Config& c, const std::string& path) {
  std::ifstream in(path);
  if (!in) return bad("--config", "cannot read config file " + path);
  const auto doc = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return bad("--config", "config file is not a JSON object: " + path);
  for (const auto& [key, value] : doc.items()) {
    if (key == "limits" && value.is_object()) {
      for (const auto& [sub, sub_value] : value.items()) {
        auto r = apply_json_value(c, "limits." + sub, sub_value);
        if (!r) return r.error();
      }
      continue;
    }
    auto r = apply_json_value(c, key, value);
    if (!r) return r.error();
  }
  return Unit{};
}

Result<Unit> apply_env(Config& c, const EnvLookup& env) {
  for (const auto& s : kSettings) {
    const auto value = env(std::string(s.env));
    if (!value) continue;
    auto r = apply(s, s.env, c, *value);
    if (!r) return r.error();
  }
  return Unit{};
}

struct ParsedFlags {
  std::vector<std::pair<std::string, std::string>> values;  // in argv order
  std::optional<std::string> config_file;
  bool help = false;
};

const Setting* find_flag(std::string_view flag) {
  for (const auto& s : kSettings) {
    if (!s.flag.empty() && s.flag == flag) return &s;
  }
  return nullptr;
}

Result<ParsedFlags> parse_flags(const std::vector<std::string>& args) {
  ParsedFlags out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> value;
    if (const auto eq = flag.find('='); flag.starts_with("--") && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    }
    if (flag == "--help" || flag == "-h") {
      out.help = true;
      continue;
    }
    if (flag != "--config" && find_flag(flag) == nullptr)
      return bad(flag, "unknown argument '" + flag + "' (see --help)");
    if (!value) {
      if (i + 1 >= args.size()) return bad(flag, flag + " needs a value");
      value = args[++i];
    }
    if (flag == "--config") {
      out.config_file = *value;
    } else {
      out.values.emplace_back(flag, *value);
    }
  }
  return out;
}

Result<Unit> validate(const Config& c) {
  if (c.tls_cert_path.empty() != c.tls_key_path.empty())
    return bad("--tls-cert", "give both --tls-cert and --tls-key, or neither");
  if (c.listen_host.empty()) return bad("listen", "listen host is empty");
  return Unit{};
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());  // NOLINT(concurrency-mt-unsafe): startup only
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<LoadedConfig> load_config(const std::vector<std::string>& args, const EnvLookup& env) {
  auto flags = parse_flags(args);
  if (!flags) return flags.error();
  LoadedConfig out;
  out.help_requested = flags->help;
  if (out.help_requested) return out;
  if (flags->config_file) {
    if (auto r = apply_file(out.config, *flags->config_file); !r) return r.error();
  }
  if (auto r = apply_env(out.config, env); !r) return r.error();
  for (const auto& [flag, value] : flags->values) {
    if (auto r = apply(*find_flag(flag), flag, out.config, value); !r) return r.error();
  }
  if (auto r = validate(out.config); !r) return r.error();
  return out;
}

std::string usage_text() {
  std::ostringstream out;
  out << "usage: encore-server --db PATH --program PATH --listen HOST:PORT\n"
         "                     [--tls-cert PEM --tls-key PEM] [--config FILE] [--help]\n\n"
         "Precedence: defaults < --config FILE (JSON) < ENCORE_* environment < flags.\n"
         "Without --tls-cert/--tls-key a self-signed development certificate is generated\n"
         "next to the database (<db>.dev-cert.pem, <db>.dev-key.pem).\n\n"
         "settings (config key / environment variable):\n";
  for (const auto& s : kSettings) {
    out << "  " << s.key << std::string(34 - s.key.size(), ' ') << s.env;
    if (!s.flag.empty()) out << "  (" << s.flag << ")";
    out << '\n';
  }
  return out.str();
}

}  // namespace encore::api
