#include "api/handler_support.h"

#include <memory>

#include "api/log.h"
#include "api/problem.h"
#include "ledger/hash.h"
#include "ledger/json_reader.h"

namespace encore::api {

Response error_response(const Error& error) {
  Response res = problem_response(error);
  if (error.code == ErrorCode::unauthorized) res.set(http::field::www_authenticate, "Bearer");
  return res;
}

std::optional<Principal> authorize(Services& s, const Request& req, Context& ctx,
                                   const std::vector<Role>& roles,
                                   std::optional<Response>& refusal) {
  auto header = req[http::field::authorization];
  auto who = s.keys.authenticate(header);
  if (!who) {
    refusal = error_response(make_error(ErrorCode::unauthorized, "Authorization",
                                        "a valid API key is required: Authorization: Bearer KEY"));
    return std::nullopt;
  }
  ctx.key_name = who->name;
  for (Role r : roles) {
    if (r == who->role) return who;
  }
  refusal = error_response(make_error(
      ErrorCode::forbidden, "",
      "the key's role (" + std::string(to_string(who->role)) + ") may not use this route"));
  return std::nullopt;
}

Result<nlohmann::json> read_json_body(const Request& req, bool empty_ok) {
  if (req.body().empty()) {
    if (empty_ok) return nlohmann::json(nullptr);
    return make_error(ErrorCode::invalid_request, "", "a JSON body is required");
  }
  auto type = req[http::field::content_type];
  auto semicolon = type.find(';');
  auto media = type.substr(0, semicolon);
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (media != "application/json") {
    return make_error(ErrorCode::unsupported_media_type, "Content-Type",
                      "send Content-Type: application/json");
  }
  return parse_json_strict(req.body());
}

namespace {

// Shared between the job (writer thread) and its completion.
struct PendingWrite {
  Response response;  // rendered once, so a replay is byte-identical to the original
  bool failed = false;
};

Response render(const WriteOutcome& out) {
  if (out.error) return error_response(*out.error);
  if (out.body_text) return json_text_response(out.status, *out.body_text);
  return json_response(out.status, out.body);
}

bool stored_outcome(int status) {
  return (status >= 200 && status < 300) || status == 422;
}

Response replay(const IdempotencyRecord& record) {
  Response res{static_cast<http::status>(record.status), 11};
  res.set(http::field::content_type,
          record.status >= 400 ? "application/problem+json" : "application/json");
  res.set("Idempotent-Replayed", "true");
  res.body() = record.body;
  return res;
}

std::string request_hash(const Request& req, const nlohmann::json& body) {
  auto target = req.target();
  auto path = target.substr(0, target.find('?'));
  std::string canonical =
      std::string(req.method_string()) + " " + std::string(path) + "\n" + body.dump();
  auto h = sha256(canonical);
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

}  // namespace

void submit_write(Services& s, const Request& req, Context& ctx, const Principal& who,
                  const nlohmann::json& body, WriteOp op, Respond respond) {
  std::optional<std::string> idem_key;
  if (req.method() == http::verb::post) {
    auto header = req["Idempotency-Key"];
    if (!header.empty()) {
      if (!valid_idempotency_key(header)) {
        return respond(error_response(make_error(ErrorCode::invalid_request, "Idempotency-Key",
                                                 "must be 1-128 printable characters")));
      }
      idem_key = std::string(header);
    } else if (who.role == Role::pos) {
      return respond(error_response(make_error(ErrorCode::invalid_request, "Idempotency-Key",
                                               "POS requests must carry an Idempotency-Key")));
    }
  }
  std::string hash = idem_key ? request_hash(req, body) : std::string{};
  if (idem_key) {
    auto check = s.idempotency.begin(who.name, *idem_key, hash);
    using O = IdempotencyGuard::Outcome;
    switch (check.outcome) {
      case O::proceed:
        break;
      case O::replay:
        return respond(replay(*check.stored));
      case O::reused:
        return respond(
            error_response(make_error(ErrorCode::idempotency_key_reused, "Idempotency-Key",
                                      "this key was used with a different request")));
      case O::in_flight:
        return respond(error_response(make_error(ErrorCode::request_in_progress, "Idempotency-Key",
                                                 "a request with this key is still in flight")));
      case O::overloaded:
        return respond(error_response(make_error(ErrorCode::overloaded, "", "try again later")));
    }
  }
  auto pending = std::make_shared<PendingWrite>();
  auto job = [pending, op = std::move(op), idem_key, hash, name = who.name,
              &ledger = s.ledger](Writer& w) {
    try {
      pending->response = render(op(w));
    } catch (...) {
      pending->failed = true;
      throw;
    }
    const int status = static_cast<int>(pending->response.result_int());
    if (idem_key && stored_outcome(status)) {
      w.save_idempotency(IdempotencyRecord{name, *idem_key, hash, status, pending->response.body(),
                                           ledger.clock().now()});
    }
  };
  auto done = [pending, respond, idem_key, name = who.name, &s,
               request_id = ctx.request_id](bool committed) {
    if (idem_key) s.idempotency.finish(name, *idem_key);
    if (!committed || pending->failed) {
      log_error("write failed", {{"request_id", request_id}, {"committed", committed}});
      return respond(error_response(make_error(ErrorCode::internal, "", "")));
    }
    respond(std::move(pending->response));
  };
  if (!s.writes.submit(std::move(job), std::move(done))) {
    if (idem_key) s.idempotency.finish(who.name, *idem_key);
    respond(error_response(make_error(ErrorCode::overloaded, "", "the write queue is full")));
  }
}

}  // namespace encore::api
