#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "api/problem.h"
#include "api/router.h"

using namespace encore::api;

namespace {

Request make_request(http::verb method, std::string target) {
  Request req{method, target, 11};
  return req;
}

Response echo(const Request&, Context& ctx) {
  nlohmann::json body{{"route", ctx.route_pattern}};
  for (const auto& [k, v] : ctx.params) body["params"][k] = v;
  for (const auto& [k, v] : ctx.query) body["query"][k] = v;
  return json_response(http::status::ok, body);
}

Router sample_router() {
  Router router;
  router.add(http::verb::get, "/v1/members/{member_id}", echo);
  router.add(http::verb::patch, "/v1/members/{member_id}", echo);
  router.add(http::verb::get, "/v1/members/{member_id}/balance", echo);
  router.add(http::verb::post, "/v1/holds/{hold_id}/capture", echo);
  router.add(http::verb::get, "/v1/members/search", echo);
  return router;
}

}  // namespace

TEST_CASE("router extracts percent-decoded {param} segments and the query string") {
  const Router router = sample_router();
  Context ctx;
  const auto res =
      router.handle(make_request(http::verb::get, "/v1/members/m%2042?limit=5&cursor=a%2Bb"), ctx);
  REQUIRE(res.result() == http::status::ok);
  CHECK(ctx.param("member_id") == "m 42");
  CHECK(ctx.route_pattern == "/v1/members/{member_id}");
  CHECK(ctx.query_value("limit") == std::optional<std::string_view>("5"));
  CHECK(ctx.query_value("cursor") == std::optional<std::string_view>("a+b"));
  CHECK_FALSE(ctx.query_value("missing").has_value());

  Context capture;
  CHECK(router.handle(make_request(http::verb::post, "/v1/holds/h1/capture"), capture).result() ==
        http::status::ok);
  CHECK(capture.param("hold_id") == "h1");
}

TEST_CASE("router prefers a literal segment over a {param} whatever the registration order") {
  const Router router = sample_router();
  Context ctx;
  router.handle(make_request(http::verb::get, "/v1/members/search"), ctx);
  CHECK(ctx.route_pattern == "/v1/members/search");
  CHECK(ctx.params.empty());
}

TEST_CASE("router answers 404 problem not_found for an unknown path") {
  const Router router = sample_router();
  for (const std::string target : {"/nope", "/v1/members", "/v1/members/",
                                   "/v1/members/x/balance/extra", "", "/v1//balance"}) {
    CAPTURE(target);
    Context ctx;
    const auto res = router.handle(make_request(http::verb::get, target), ctx);
    CHECK(res.result() == http::status::not_found);
    CHECK(res[http::field::content_type] == "application/problem+json");
    CHECK(nlohmann::json::parse(res.body())["code"] == "not_found");
    CHECK(ctx.route_pattern.empty());
  }
}

TEST_CASE("router answers 405 with an Allow header for a known path and another method") {
  const Router router = sample_router();
  Context ctx;
  const auto res = router.handle(make_request(http::verb::delete_, "/v1/members/m1"), ctx);
  CHECK(res.result() == http::status::method_not_allowed);
  CHECK(res[http::field::allow] == "GET, PATCH");
  CHECK(res[http::field::content_type] == "application/problem+json");
  const auto body = nlohmann::json::parse(res.body());
  CHECK(body["status"] == 405);
  CHECK(body["code"] == "method_not_allowed");
}

TEST_CASE("router lists registered method and pattern pairs in registration order") {
  const Router router = sample_router();
  const std::vector<RouteInfo> expected{
      {http::verb::get, "/v1/members/{member_id}"},
      {http::verb::patch, "/v1/members/{member_id}"},
      {http::verb::get, "/v1/members/{member_id}/balance"},
      {http::verb::post, "/v1/holds/{hold_id}/capture"},
      {http::verb::get, "/v1/members/search"},
  };
  CHECK(router.routes() == expected);
}

TEST_CASE("router rejects duplicate and malformed patterns at registration") {
  Router router = sample_router();
  CHECK_THROWS_AS(router.add(http::verb::get, "/v1/members/{member_id}", echo),
                  std::invalid_argument);
  CHECK_THROWS_AS(router.add(http::verb::get, "no-slash", echo), std::invalid_argument);
  CHECK_THROWS_AS(router.add(http::verb::get, "/v1/{bad", echo), std::invalid_argument);
}

TEST_CASE("a throwing handler yields 500 internal without leaking the exception text") {
  Router router;
  router.add(http::verb::get, "/boom", [](const Request&, Context&) -> Response {
    throw std::runtime_error("SELECT secret FROM keys");
  });
  Context ctx;
  const auto res = router.handle(make_request(http::verb::get, "/boom"), ctx);
  CHECK(res.result() == http::status::internal_server_error);
  CHECK(res.body().find("secret") == std::string::npos);
  CHECK(nlohmann::json::parse(res.body())["code"] == "internal");
}

TEST_CASE("malformed percent-encoding in a path parameter is a 400 naming the parameter") {
  const Router router = sample_router();
  Context ctx;
  const auto res = router.handle(make_request(http::verb::get, "/v1/members/%zz"), ctx);
  CHECK(res.result() == http::status::bad_request);
  CHECK(nlohmann::json::parse(res.body())["field"] == "member_id");
}
