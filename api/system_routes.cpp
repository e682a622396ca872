#include "api/system_routes.h"

#include "api/problem.h"

namespace encore::api {

void add_system_routes(Router& router) {
  router.add(http::verb::get, "/healthz", [](const Request&, Context&) {
    return json_response(http::status::ok, {{"status", "ok"}});
  });
  router.add(http::verb::get, "/v1/noop", [](const Request&, Context&) {
    return json_response(http::status::ok, {{"ok", true}});
  });
}

}  // namespace encore::api
