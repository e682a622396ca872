#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "api/problem.h"

using namespace encore;
using namespace encore::api;

TEST_CASE("every ErrorCode maps to the SPEC's HTTP status") {
  const std::vector<std::pair<ErrorCode, unsigned>> table{
      {ErrorCode::invalid_request, 400},
      {ErrorCode::unauthorized, 401},
      {ErrorCode::forbidden, 403},
      {ErrorCode::not_found, 404},
      {ErrorCode::member_exists, 409},
      {ErrorCode::request_in_progress, 409},
      {ErrorCode::payload_too_large, 413},
      {ErrorCode::unsupported_media_type, 415},
      {ErrorCode::idempotency_key_reused, 422},
      {ErrorCode::insufficient_points, 422},
      {ErrorCode::refund_exceeds_purchase, 422},
      {ErrorCode::currency_mismatch, 422},
      {ErrorCode::order_already_posted, 422},
      {ErrorCode::hold_not_open, 422},
      {ErrorCode::already_reversed, 422},
      {ErrorCode::overloaded, 503},
      {ErrorCode::internal, 500},
  };
  for (const auto& [code, status] : table) {
    CAPTURE(to_string(code));
    CHECK(static_cast<unsigned>(problem_kind(code).status) == status);
    CHECK_FALSE(problem_kind(code).title.empty());
    const auto res = problem_response(make_error(code, "", "x"));
    CHECK(res.result_int() == status);
    CHECK(nlohmann::json::parse(res.body())["status"] == status);
    // Only a 503 tells the client when to come back.
    CHECK((res[http::field::retry_after] == "1") == (status == 503));
  }
}

TEST_CASE("problem+json body has type title status detail code and the field when one is named") {
  const auto res =
      problem_response(make_error(ErrorCode::insufficient_points, "points", "only 10 available"));
  CHECK(res[http::field::content_type] == "application/problem+json");
  CHECK(res[http::field::content_length] == std::to_string(res.body().size()));
  const auto body = nlohmann::json::parse(res.body());
  CHECK(body["type"] == "https://encore.dev/problems/insufficient_points");
  CHECK(body["title"] == "Insufficient points");
  CHECK(body["status"] == 422);
  CHECK(body["detail"] == "only 10 available");
  CHECK(body["code"] == "insufficient_points");
  CHECK(body["field"] == "points");
  CHECK(body.size() == 6);

  const auto no_field = problem_body(make_error(ErrorCode::not_found, "", "no member m1"));
  CHECK_FALSE(no_field.contains("field"));
  CHECK(no_field.size() == 5);
}

TEST_CASE("internal problems never leak the detail") {
  const auto body =
      problem_body(make_error(ErrorCode::internal, "db", "sqlite: disk I/O error at /var/x.db"));
  CHECK(body["status"] == 500);
  CHECK(body["code"] == "internal");
  CHECK(body.dump().find("sqlite") == std::string::npos);
  CHECK_FALSE(body.contains("field"));
}
