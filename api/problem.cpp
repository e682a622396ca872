#include "api/problem.h"

#include <string>

namespace encore::api {
namespace {

constexpr std::string_view kTypePrefix = "https://encore.dev/problems/";

// A 503 (a full queue, a stopping server) clears within about a second: POS terminals retry on
// every error, and Retry-After tells them not to retry in a tight loop (RFC 9110, 10.2.3).
constexpr std::string_view kRetryAfterSeconds = "1";

Response make_problem(http::status status, const nlohmann::json& body) {
  Response res{status, 11};
  res.set(http::field::content_type, kProblemContentType);
  if (status == http::status::service_unavailable)
    res.set(http::field::retry_after, kRetryAfterSeconds);
  res.body() = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

}  // namespace

ProblemKind problem_kind(ErrorCode code) {
  using s = http::status;
  switch (code) {
    case ErrorCode::invalid_request:
      return {s::bad_request, "Invalid request"};
    case ErrorCode::unauthorized:
      return {s::unauthorized, "Unauthorized"};
    case ErrorCode::forbidden:
      return {s::forbidden, "Forbidden"};
    case ErrorCode::not_found:
      return {s::not_found, "Not found"};
    case ErrorCode::member_exists:
      return {s::conflict, "Member already exists"};
    case ErrorCode::request_in_progress:
      return {s::conflict, "Request in progress"};
    case ErrorCode::payload_too_large:
      return {s::payload_too_large, "Payload too large"};
    case ErrorCode::unsupported_media_type:
      return {s::unsupported_media_type, "Unsupported media type"};
    case ErrorCode::idempotency_key_reused:
      return {s::unprocessable_entity, "Idempotency key reused"};
    case ErrorCode::insufficient_points:
      return {s::unprocessable_entity, "Insufficient points"};
    case ErrorCode::refund_exceeds_purchase:
      return {s::unprocessable_entity, "Refund exceeds purchase"};
    case ErrorCode::currency_mismatch:
      return {s::unprocessable_entity, "Currency mismatch"};
    case ErrorCode::order_already_posted:
      return {s::unprocessable_entity, "Order already posted"};
    case ErrorCode::hold_not_open:
      return {s::unprocessable_entity, "Hold not open"};
    case ErrorCode::already_reversed:
      return {s::unprocessable_entity, "Already reversed"};
    case ErrorCode::not_reversible:
      return {s::unprocessable_entity, "Not reversible"};
    case ErrorCode::overloaded:
      return {s::service_unavailable, "Overloaded"};
    case ErrorCode::internal:
      return {s::internal_server_error, "Internal error"};
  }
  return {s::internal_server_error, "Internal error"};
}

nlohmann::json problem_body(const Error& error) {
  const ProblemKind kind = problem_kind(error.code);
  const std::string_view code = to_string(error.code);
  const bool internal = error.code == ErrorCode::internal;
  nlohmann::json body{
      {"type", std::string(kTypePrefix) + std::string(code)},
      {"title", kind.title},
      {"status", static_cast<unsigned>(kind.status)},
      {"detail", internal || error.detail.empty() ? std::string(kind.title) : error.detail},
      {"code", code},
  };
  if (!error.field.empty() && !internal) body["field"] = error.field;
  return body;
}

Response problem_response(const Error& error) {
  return make_problem(problem_kind(error.code).status, problem_body(error));
}

Response problem_response(http::status status, std::string_view code, std::string_view title,
                          std::string_view detail) {
  const nlohmann::json body{
      {"type", std::string(kTypePrefix) + std::string(code)},
      {"title", title},
      {"status", static_cast<unsigned>(status)},
      {"detail", detail},
      {"code", code},
  };
  return make_problem(status, body);
}

Response json_response(http::status status, const nlohmann::json& body) {
  return json_text_response(status,
                            body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

Response json_text_response(http::status status, std::string body) {
  Response res{status, 11};
  res.set(http::field::content_type, kJsonContentType);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

}  // namespace encore::api
