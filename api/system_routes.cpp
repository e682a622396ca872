#include "api/system_routes.h"

#include "api/problem.h"

namespace encore::api {

void add_system_routes(Router& router, std::function<bool()> database_ok) {
  router.add(http::verb::get, "/healthz", [database_ok](const Request&, Context&) {
    if (database_ok && !database_ok()) {
      return problem_response(
          make_error(ErrorCode::overloaded, "",
                     "the database cannot be read, or writes are stopped (see the log)"));
    }
    return json_response(http::status::ok, {{"status", "ok"}});
  });
  router.add(http::verb::get, "/v1/noop", [](const Request&, Context&) {
    return json_response(http::status::ok, {{"ok", true}});
  });
}

}  // namespace encore::api
