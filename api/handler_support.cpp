#include "api/handler_support.h"

#include <charconv>

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

Result<std::size_t> page_limit(const Context& ctx, std::size_t default_limit,
                               std::size_t max_limit) {
  auto text = ctx.query_value("limit");
  if (!text) return default_limit;
  std::size_t limit = 0;
  auto r = std::from_chars(text->data(), text->data() + text->size(), limit);
  if (r.ec != std::errc{} || r.ptr != text->data() + text->size() || limit < 1 ||
      limit > max_limit) {
    return make_error(ErrorCode::invalid_request, "limit",
                      "must be an integer from 1 to " + std::to_string(max_limit));
  }
  return limit;
}

Result<std::optional<std::int64_t>> page_cursor(const Context& ctx) {
  auto text = ctx.query_value("cursor");
  if (!text) return std::optional<std::int64_t>{};
  std::int64_t cursor = 0;
  auto r = std::from_chars(text->data(), text->data() + text->size(), cursor);
  if (r.ec != std::errc{} || r.ptr != text->data() + text->size() || cursor < 1) {
    return make_error(ErrorCode::invalid_request, "cursor", "is not a cursor this API issued");
  }
  return std::optional<std::int64_t>{cursor};
}

namespace {

// Shared between the job (writer thread) and its completion (sync thread, after the job).
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

// The Idempotency-Key checks that come before any write. True: go ahead (`key` and `hash` set
// when the request carries a key, which is then in flight). False: `respond` has been called.
struct IdempotencyStart {
  std::optional<std::string> key;
  std::string hash;
};

bool start_idempotent(Services& s, const Request& req, const Principal& who,
                      const nlohmann::json& body, IdempotencyStart& out, const Respond& respond) {
  if (req.method() == http::verb::post) {
    auto header = req["Idempotency-Key"];
    if (!header.empty()) {
      if (!valid_idempotency_key(header)) {
        respond(error_response(make_error(ErrorCode::invalid_request, "Idempotency-Key",
                                          "must be 1-128 printable characters")));
        return false;
      }
      out.key = std::string(header);
    } else if (who.role == Role::pos) {
      respond(error_response(make_error(ErrorCode::invalid_request, "Idempotency-Key",
                                        "POS requests must carry an Idempotency-Key")));
      return false;
    }
  }
  if (!out.key) return true;
  out.hash = request_hash(req, body);
  using O = IdempotencyGuard::Outcome;
  switch (s.idempotency.begin(who.name, *out.key)) {
    case O::proceed:
      return true;
    case O::in_flight:
      respond(error_response(make_error(ErrorCode::request_in_progress, "Idempotency-Key",
                                        "a request with this key is still in flight")));
      return false;
    case O::overloaded:
      respond(error_response(make_error(ErrorCode::overloaded, "", "try again later")));
      return false;
  }
  respond(error_response(make_error(ErrorCode::internal, "", "")));  // a new Outcome, unhandled
  return false;
}

// On the writer thread, inside the batch transaction, before the operation runs: the answer
// already stored under the request's key, if any (a replay, or 422 when the key came with another
// request). The key is in flight, so no other job can store it meanwhile.
std::optional<Response> stored_answer(Writer& w, const IdempotencyStart& idem,
                                      const std::string& key_name) {
  if (!idem.key) return std::nullopt;
  auto stored = w.idempotency(key_name, *idem.key);
  if (!stored) return std::nullopt;
  if (stored->request_hash != idem.hash) {
    return error_response(make_error(ErrorCode::idempotency_key_reused, "Idempotency-Key",
                                     "this key was used with a different request"));
  }
  return replay(*stored);
}

// On the writer thread, inside the transaction that produced `response`. The operation has
// released its savepoint, so its rows commit with the batch: when the record cannot be written,
// the whole batch fails instead (WriteQueue::AbortBatch), or a retry would run the operation
// again.
void save_outcome(Writer& w, const Ledger& ledger, const IdempotencyStart& idem,
                  const std::string& key_name, const Response& response) {
  const int status = static_cast<int>(response.result_int());
  if (!idem.key || !stored_outcome(status)) return;
  try {
    w.save_idempotency(IdempotencyRecord{key_name, *idem.key, idem.hash, status, response.body(),
                                         ledger.clock().now()});
  } catch (const std::exception& e) {
    throw WriteQueue::AbortBatch(std::string("idempotency record not saved: ") + e.what());
  }
}

Response write_failed(const std::string& request_id, bool committed) {
  log_error("write failed", {{"request_id", request_id}, {"committed", committed}});
  return error_response(make_error(ErrorCode::internal, "", ""));
}

// Why the write queue refused a write.
Response write_refused(const WriteQueue& writes) {
  if (writes.durability_lost()) {
    return error_response(make_error(ErrorCode::overloaded, "",
                                     "writes are stopped: the database could not be made "
                                     "durable (docs/operations.md)"));
  }
  return error_response(make_error(ErrorCode::overloaded, "", "the write queue is full"));
}

// A chunked job between its pieces. The pieces run one after another (each is submitted from the
// previous one's completion), so one thread at a time touches this after start: the writer
// thread for the job, the sync thread for its completion, ordered by the write queue's mutex.
struct ChunkedRun : std::enable_shared_from_this<ChunkedRun> {
  ChunkedRun(Services& services, ChunkedOp op, IdempotencyStart idem, std::string key_name,
             Respond respond, std::string request_id)
      : s(services),
        op(std::move(op)),
        idem(std::move(idem)),
        key_name(std::move(key_name)),
        respond(std::move(respond)),
        request_id(std::move(request_id)) {}

  void submit_next() {
    auto self = shared_from_this();
    auto job = [self](Writer& w) {
      try {
        if (self->pieces_committed == 0) {
          if (auto answer = stored_answer(w, self->idem, self->key_name)) {
            self->last = true;
            self->response = std::move(*answer);
            return;
          }
        }
        ChunkStep step = self->op(w);
        self->last = step.done || step.outcome.error.has_value();
        if (self->last) {
          self->response = render(step.outcome);
          save_outcome(w, self->s.ledger, self->idem, self->key_name, self->response);
        }
      } catch (...) {
        self->failed = true;
        throw;
      }
    };
    auto done = [self](bool committed) {
      if (committed && !self->failed && !self->last) {
        ++self->pieces_committed;
        return self->submit_next();
      }
      if (committed && !self->failed) return self->finish(std::move(self->response));
      log_error("write failed", {{"request_id", self->request_id}, {"committed", committed}});
      self->finish(self->cut_short(ErrorCode::internal));
    };
    const bool queued = pieces_committed == 0
                            ? s.writes.submit(std::move(job), std::move(done))
                            : s.writes.submit_continuation(std::move(job), std::move(done));
    if (!queued) {
      finish(pieces_committed == 0 ? write_refused(s.writes) : cut_short(ErrorCode::overloaded));
    }
  }

  // The answer when the job stops after some pieces committed (a failed commit, or shutdown):
  // what stays committed, and that running the job again finishes it.
  Response cut_short(ErrorCode code) const {
    if (pieces_committed == 0) return error_response(make_error(code, "", ""));
    return error_response(make_error(code, "",
                                     "the job was cut short after " +
                                         std::to_string(pieces_committed) +
                                         " committed pieces, which stay; run it again to finish"));
  }

  void finish(Response res) {
    if (idem.key) s.idempotency.finish(key_name, *idem.key);
    respond(std::move(res));
  }

  Services& s;
  ChunkedOp op;
  IdempotencyStart idem;
  std::string key_name;
  Respond respond;
  std::string request_id;
  Response response;  // the last piece's, rendered once (a replay is byte-identical)
  std::size_t pieces_committed = 0;
  bool last = false;
  bool failed = false;
};

}  // namespace

void submit_write(Services& s, const Request& req, Context& ctx, const Principal& who,
                  const nlohmann::json& body, WriteOp op, Respond respond) {
  IdempotencyStart idem;
  if (!start_idempotent(s, req, who, body, idem, respond)) return;
  auto pending = std::make_shared<PendingWrite>();
  auto job = [pending, op = std::move(op), idem, name = who.name, &ledger = s.ledger](Writer& w) {
    try {
      if (auto answer = stored_answer(w, idem, name)) {
        pending->response = std::move(*answer);
        return;
      }
      pending->response = render(op(w));
      save_outcome(w, ledger, idem, name, pending->response);
    } catch (...) {
      pending->failed = true;
      throw;
    }
  };
  auto done = [pending, respond, key = idem.key, name = who.name, &s,
               request_id = ctx.request_id](bool committed) {
    if (key) s.idempotency.finish(name, *key);
    if (!committed || pending->failed) return respond(write_failed(request_id, committed));
    respond(std::move(pending->response));
  };
  if (!s.writes.submit(std::move(job), std::move(done))) {
    if (idem.key) s.idempotency.finish(who.name, *idem.key);
    respond(write_refused(s.writes));
  }
}

void submit_chunked_write(Services& s, const Request& req, Context& ctx, const Principal& who,
                          const nlohmann::json& body, ChunkedOp op, Respond respond) {
  IdempotencyStart idem;
  if (!start_idempotent(s, req, who, body, idem, respond)) return;
  std::make_shared<ChunkedRun>(s, std::move(op), std::move(idem), who.name, std::move(respond),
                               ctx.request_id)
      ->submit_next();
}

}  // namespace encore::api
