// What every business route shares: the services it captures, auth by role, strict JSON bodies,
// and the idempotent, group-committed write flow (SPEC 5).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/auth.h"
#include "api/idempotency.h"
#include "api/metrics.h"
#include "api/router.h"
#include "api/write_queue.h"
#include "ledger/ledger.h"

namespace encore::api {

struct Services {
  Ledger& ledger;
  WriteQueue& writes;
  KeyCache& keys;
  IdempotencyGuard& idempotency;
  Metrics& metrics;
};

// The principal when its role is allowed; otherwise the 401/403 response to send.
std::optional<Principal> authorize(Services& s, const Request& req, Context& ctx,
                                   const std::vector<Role>& roles,
                                   std::optional<Response>& refusal);

// Parses an application/json body strictly (duplicate keys refused). An empty body is JSON null
// when `empty_ok`. Errors: 415 for another content type, 400 for malformed JSON.
Result<nlohmann::json> read_json_body(const Request& req, bool empty_ok);

// What a write produced: a status and a JSON body, or a domain error.
struct WriteOutcome {
  http::status status = http::status::ok;
  nlohmann::json body;
  std::optional<std::string> body_text;  // already rendered (hot routes); wins over `body`
  std::optional<Error> error;
};
using WriteOp = std::function<WriteOutcome(Writer&)>;

template <class T, class Encode>
WriteOutcome outcome(const Result<T>& result, http::status status, Encode encode) {
  if (!result) return WriteOutcome{status, nullptr, std::nullopt, result.error()};
  if constexpr (std::is_same_v<decltype(encode(result.value())), std::string>) {
    return WriteOutcome{status, nullptr, encode(result.value()), std::nullopt};
  } else {
    return WriteOutcome{status, encode(result.value()), std::nullopt, std::nullopt};
  }
}

// Runs `op` on the single writer (group commit) and answers after the commit. POSTs honour the
// Idempotency-Key header (required for pos keys): replay, reuse (422) and in-flight (409).
void submit_write(Services& s, const Request& req, Context& ctx, const Principal& who,
                  const nlohmann::json& body, WriteOp op, Respond respond);

Response error_response(const Error& error);

}  // namespace encore::api
