// A pure request -> response dispatcher: no sockets, so routes are unit-testable.
//
// Register routes with patterns made of literal segments and `{name}` segments:
//   router.add(http::verb::get, "/v1/members/{member_id}", [&store](const Request& req,
//              Context& ctx) { return json_response(http::status::ok, ...ctx.param("member_id"));
//              });
// Services a handler needs (store, clock, key cache) are captured by the handler's closure when
// it is registered; Context carries only per-request state.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.h"

namespace encore::api {

struct Context {
  std::string request_id;                     // also sent as X-Request-Id
  std::map<std::string, std::string> params;  // `{name}` segments, percent-decoded
  std::map<std::string, std::string> query;   // query string, percent-decoded, first value wins
  std::string route_pattern;                  // matched pattern, empty when none matched
  std::string key_name;                       // API key name for the access log (set by auth)

  // The value of a `{name}` segment; empty when the route has no such segment.
  std::string_view param(std::string_view name) const;
  std::optional<std::string_view> query_value(std::string_view name) const;
};

using Handler = std::function<Response(const Request&, Context&)>;
// Delivers the response; may be called later and from another thread (e.g. the write queue's
// sync thread once a group commit is durable). Called exactly once.
using Respond = std::function<void(Response)>;
using AsyncHandler = std::function<void(const Request&, Context&, Respond)>;

struct RouteInfo {
  http::verb method;
  std::string pattern;
  friend bool operator==(const RouteInfo&, const RouteInfo&) = default;
};

class Router {
 public:
  // Throws std::invalid_argument for a malformed pattern or a duplicate (method, pattern): both
  // are programming errors caught at startup.
  void add(http::verb method, std::string pattern, Handler handler);
  void add_async(http::verb method, std::string pattern, AsyncHandler handler);

  // Dispatches; unknown path -> 404 `not_found`, known path with another method -> 405 with an
  // Allow header. A handler that throws yields 500 `internal` (the exception is logged, not sent).
  Response handle(const Request& req, Context& ctx) const;
  // The same dispatch for routes that answer later: `respond` is called exactly once.
  void handle_async(const Request& req, Context& ctx, Respond respond) const;

  // Registered routes in registration order (compared with docs/openapi.yaml by a test).
  std::vector<RouteInfo> routes() const;

 private:
  struct Segment {
    std::string text;
    bool is_param = false;
  };
  struct Route {
    http::verb method;
    std::string pattern;
    std::vector<Segment> segments;
    AsyncHandler handler;
  };
  // The matched route, or the response that ends the request (404, 405, bad path).
  const Route* match(const Request& req, Context& ctx, std::optional<Response>& refusal) const;

  std::vector<Route> routes_;
};

// Percent-decodes `text`; nullopt on a malformed escape. `plus_is_space` for query strings.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace encore::api
