#include "api/router.h"

#include <algorithm>
#include <boost/container/small_vector.hpp>
#include <exception>
#include <stdexcept>

#include "api/log.h"
#include "api/problem.h"

namespace encore::api {
namespace {

// Inline capacity for path segments and candidate routes: every Encore route fits, so neither
// vector allocates (longer paths still work, on the heap).
constexpr std::size_t inline_segments = 8;
using PathParts = boost::container::small_vector<std::string_view, inline_segments>;

// "/a/b/" -> {"a","b",""}: a trailing slash is a distinct (and so unmatched) path.
PathParts split_path(std::string_view path) {
  PathParts parts;
  if (path.empty() || path.front() != '/') return parts;
  path.remove_prefix(1);
  while (true) {
    const auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (key && value) out.emplace(std::move(*key), std::move(*value));
  }
  return out;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  return out;
}

std::string_view Context::param(std::string_view name) const {
  const auto it = params.find(std::string(name));
  return it == params.end() ? std::string_view{} : std::string_view{it->second};
}

std::optional<std::string_view> Context::query_value(std::string_view name) const {
  const auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return std::string_view{it->second};
}

void Router::add(http::verb method, std::string pattern, Handler handler) {
  add_async(method, std::move(pattern),
            [handler = std::move(handler)](const Request& req, Context& ctx, Respond respond) {
              respond(handler(req, ctx));
            });
}

void Router::add_async(http::verb method, std::string pattern, AsyncHandler handler) {
  const auto parts = split_path(pattern);
  if (parts.empty()) throw std::invalid_argument("route pattern must start with '/': " + pattern);
  Route route{method, pattern, {}, std::move(handler)};
  for (const auto part : parts) {
    const bool is_param = part.size() > 2 && part.front() == '{' && part.back() == '}';
    if (!is_param && part.find_first_of("{}") != std::string_view::npos)
      throw std::invalid_argument("malformed route segment in " + pattern);
    route.segments.push_back(
        {std::string(is_param ? part.substr(1, part.size() - 2) : part), is_param});
  }
  for (const auto& existing : routes_) {
    if (existing.method == method && existing.pattern == pattern)
      throw std::invalid_argument("duplicate route " + pattern);
  }
  routes_.push_back(std::move(route));
}

std::vector<RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.push_back({r.method, r.pattern});
  return out;
}

const Router::Route* Router::match(const Request& req, Context& ctx,
                                   std::optional<Response>& refusal) const {
  const std::string_view target = req.target();
  const auto question = target.find('?');
  const auto parts = split_path(target.substr(0, question));
  if (question != std::string_view::npos) ctx.query = parse_query(target.substr(question + 1));

  // Among the patterns matching the path, prefer literal segments over `{param}` ones at the
  // first place they differ, so `/v1/x/search` beats `/v1/x/{id}` whatever the order of add().
  boost::container::small_vector<const Route*, inline_segments> matches;
  for (const auto& r : routes_) {
    if (r.segments.size() != parts.size()) continue;
    bool ok = true;
    for (std::size_t i = 0; ok && i < parts.size(); ++i)
      ok = r.segments[i].is_param ? !parts[i].empty() : r.segments[i].text == parts[i];
    if (ok) matches.push_back(&r);
  }
  if (matches.empty()) {
    refusal = problem_response(make_error(ErrorCode::not_found, "", "no such resource"));
    return nullptr;
  }
  auto literal_first = [](const Route* a, const Route* b) {
    for (std::size_t i = 0; i < a->segments.size(); ++i) {
      if (a->segments[i].is_param != b->segments[i].is_param) return !a->segments[i].is_param;
    }
    return false;
  };
  if (matches.size() > 1) std::stable_sort(matches.begin(), matches.end(), literal_first);

  const Route* chosen = nullptr;
  for (const Route* r : matches) {
    // Only routes with the same shape as the best match count (for 405 and for dispatch).
    if (literal_first(matches.front(), r)) break;
    if (r->method == req.method()) {
      chosen = r;
      break;
    }
  }
  if (chosen == nullptr) {
    std::string allow;
    for (const Route* r : matches) {
      if (literal_first(matches.front(), r)) break;
      if (!allow.empty()) allow += ", ";
      allow += std::string(http::to_string(r->method));
    }
    ctx.route_pattern = matches.front()->pattern;
    Response res = problem_response(http::status::method_not_allowed, "method_not_allowed",
                                    "Method not allowed", "allowed methods: " + allow);
    res.set(http::field::allow, allow);
    refusal = std::move(res);
    return nullptr;
  }

  ctx.route_pattern = chosen->pattern;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (!chosen->segments[i].is_param) continue;
    auto value = percent_decode(parts[i], false);
    if (!value) {
      refusal = problem_response(make_error(ErrorCode::invalid_request, chosen->segments[i].text,
                                            "malformed percent-encoding in path"));
      return nullptr;
    }
    ctx.params[chosen->segments[i].text] = std::move(*value);
  }
  return chosen;
}

void Router::handle_async(const Request& req, Context& ctx, Respond respond) const {
  std::optional<Response> refusal;
  const Route* chosen = match(req, ctx, refusal);
  if (chosen == nullptr) return respond(std::move(*refusal));
  try {
    return chosen->handler(req, ctx, respond);
  } catch (const std::exception& e) {
    log_error("handler threw",
              {{"request_id", ctx.request_id}, {"route", ctx.route_pattern}, {"error", e.what()}});
  } catch (...) {
    log_error("handler threw", {{"request_id", ctx.request_id}, {"route", ctx.route_pattern}});
  }
  respond(problem_response(make_error(ErrorCode::internal, "", "")));
}

Response Router::handle(const Request& req, Context& ctx) const {
  std::optional<Response> out;
  handle_async(req, ctx, [&out](Response res) { out = std::move(res); });
  if (!out) throw std::logic_error("Router::handle used on a route that answers asynchronously");
  return std::move(*out);
}

}  // namespace encore::api
