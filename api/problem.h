// RFC 9457 problem responses, and the ONE table mapping encore::ErrorCode to HTTP status.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "api/http_types.h"
#include "ledger/result.h"

namespace encore::api {

struct ProblemKind {
  http::status status;
  std::string_view title;
};

// Status and title for every ErrorCode (a switch, so -Werror=switch flags a new code).
ProblemKind problem_kind(ErrorCode code);

inline constexpr std::string_view kProblemContentType = "application/problem+json";
inline constexpr std::string_view kJsonContentType = "application/json";

// {type, title, status, detail, code[, field]}. For `internal` the detail is replaced by a
// generic sentence: internals (SQL, paths, exception text) never reach a client.
nlohmann::json problem_body(const Error& error);
Response problem_response(const Error& error);

// For HTTP-level refusals that have no domain ErrorCode (e.g. 405 `method_not_allowed`).
Response problem_response(http::status status, std::string_view code, std::string_view title,
                          std::string_view detail);

// 2xx helper: serialises `body` with Content-Type application/json.
Response json_response(http::status status, const nlohmann::json& body);
// A JSON body already rendered.
Response json_text_response(http::status status, std::string body);

}  // namespace encore::api
