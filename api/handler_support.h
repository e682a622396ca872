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
  // Members an expiry run or a tier recompute handles per write transaction (Config).
  std::size_t maintenance_chunk_members = 1000;
};

// The principal when its role is allowed; otherwise the 401/403 response to send.
std::optional<Principal> authorize(Services& s, const Request& req, Context& ctx,
                                   const std::vector<Role>& roles,
                                   std::optional<Response>& refusal);

// Parses an application/json body strictly (duplicate keys refused). An empty body is JSON null
// when `empty_ok`. Errors: 415 for another content type, 400 for malformed JSON.
Result<nlohmann::json> read_json_body(const Request& req, bool empty_ok);

// Paged reads: `?limit=` (1..max_limit, default_limit when absent) and `?cursor=` (a positive id
// this API issued; absent: the first page). 400 naming the parameter otherwise.
Result<std::size_t> page_limit(const Context& ctx, std::size_t default_limit,
                               std::size_t max_limit);
Result<std::optional<std::int64_t>> page_cursor(const Context& ctx);

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

// One piece of a long maintenance job: `done` false asks for another piece, in a later write
// operation; the outcome of the last piece (or of the first that failed) is the response.
struct ChunkStep {
  bool done = true;
  WriteOutcome outcome;
};
using ChunkedOp = std::function<ChunkStep(Writer&)>;

// submit_write for a job that walks many members: each piece is its own write operation, queued
// behind the writes that arrived meanwhile, so the tills' writes are never held for the whole
// job. Each committed piece stays committed: a job cut short (a failed commit, shutdown, a full
// queue: 500 or 503) has done part of its work, and jobs built on this are safe to run again.
// The idempotency record is saved with the last piece; the key is in flight (409) until then.
void submit_chunked_write(Services& s, const Request& req, Context& ctx, const Principal& who,
                          const nlohmann::json& body, ChunkedOp op, Respond respond);

Response error_response(const Error& error);

}  // namespace encore::api
