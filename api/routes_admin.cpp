// Admin routes: the program in force, Prometheus metrics, and operations the CLI runs through
// the server so that it stays the single writer (expiry runs, erasure, tier recompute).
#include "api/codec.h"
#include "api/metrics.h"
#include "api/problem.h"
#include "api/routes.h"
#include "ledger/json_reader.h"
#include "ledger/time_zone.h"

namespace encore::api {
namespace {

using nlohmann::json;
const std::vector<Role> admin_only = {Role::admin};

std::string ledger_gauges(Services& s) {
  LedgerTotals totals;
  s.ledger.with_reader([&](Store& store) { totals = store.ledger_totals(); });
  auto writes = s.writes.stats();
  std::string out;
  auto gauge = [&out](const char* name, const char* help, const char* type, std::int64_t value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + std::to_string(value) + "\n";
  };
  gauge("encore_members", "Enrolled members.", "gauge", totals.members);
  gauge("encore_ledger_last_entry_id", "Id of the newest ledger entry.", "gauge",
        totals.last_entry_id);
  gauge("encore_points_balance", "Sum of all members' balances (points).", "gauge", totals.balance);
  gauge("encore_points_debt", "Sum of refund shortfall debts (points).", "gauge", totals.debt);
  gauge("encore_write_batches_total", "Group-commit transactions.", "counter",
        static_cast<std::int64_t>(writes.batches));
  gauge("encore_write_jobs_total", "Writes committed through the writer.", "counter",
        static_cast<std::int64_t>(writes.jobs));
  gauge("encore_write_failed_commits_total", "Batches whose commit failed.", "counter",
        static_cast<std::int64_t>(writes.failed_commits));
  auto histogram = [&out](const char* name, const char* help, const LatencyHistogram& h) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " histogram\n";
    h.render(out, name, "");
  };
  histogram("encore_write_queue_wait_seconds",
            "Time the oldest write of each batch waited for the writer.", writes.queue_wait);
  histogram("encore_write_batch_prepare_seconds",
            "Time a committed batch spent before its first write: the write lock, a WAL "
            "restart, BEGIN.",
            writes.prepare);
  histogram("encore_write_batch_jobs_seconds",
            "Time a committed batch spent running its writes (SQL, before COMMIT).",
            writes.jobs_run);
  histogram("encore_write_commit_seconds",
            "Time a committed batch spent in COMMIT (WAL writes, without their fsync) and "
            "publishing to the member cache.",
            writes.commit);
  gauge("encore_durability_lost",
        "1 after a failed sync of the WAL or a checkpoint: writes are stopped "
        "(docs/operations.md).",
        "gauge", s.ledger.durability_lost() ? 1 : 0);
  gauge("encore_write_syncs_total",
        "WAL fdatasyncs that made committed batches durable (one covers every batch committed "
        "before it).",
        "counter", static_cast<std::int64_t>(writes.syncs));
  gauge("encore_write_failed_syncs_total",
        "WAL fdatasyncs that failed (writes stop until a restart).", "counter",
        static_cast<std::int64_t>(writes.failed_syncs));
  gauge("encore_write_undeferred_batches_total",
        "Batches that synced inside their own COMMIT because the WAL could not be opened for "
        "the sync thread (e.g. out of file descriptors): durable, but not pipelined.",
        "counter", static_cast<std::int64_t>(s.ledger.undeferred_batches()));
  histogram("encore_write_sync_seconds",
            "Time of each WAL fdatasync on the sync thread; batches are answered after it.",
            writes.sync);
  const auto cache = s.ledger.cache_stats();
  gauge("encore_member_cache_hits_total", "Member loads answered from the member cache.", "counter",
        static_cast<std::int64_t>(cache.hits));
  gauge("encore_member_cache_misses_total", "Member loads that read SQLite.", "counter",
        static_cast<std::int64_t>(cache.misses));
  gauge("encore_member_cache_members", "Members held in the member cache.", "gauge",
        static_cast<std::int64_t>(cache.members));
  gauge("encore_wal_frames",
        "WAL length in pages after the last group commit (starts over past 16384 pages).", "gauge",
        s.ledger.wal_frames());
  const auto forced = s.ledger.forced_restarts();
  gauge("encore_wal_forced_restarts_total",
        "RESTART checkpoints forced because long readers kept the WAL from starting over.",
        "counter", static_cast<std::int64_t>(forced.attempts));
  gauge("encore_wal_forced_restarts_gave_up_total",
        "Forced RESTARTs that gave up after their 100 ms wait (a reader was still there).",
        "counter", static_cast<std::int64_t>(forced.gave_up));
  return out;
}

struct ExpiryRunRequest {
  std::optional<TimePoint> as_of;
  bool dry_run = false;
};

Result<ExpiryRunRequest> decode_expiry_run(const json& body) {
  ExpiryRunRequest out;
  if (body.is_null()) return out;
  auto r = ObjectReader::open(body, "");
  if (!r) return r.error();
  if (const json* v = r->take("as_of"); v != nullptr && !v->is_null()) {
    if (!v->is_string() || !parse_rfc3339(v->get_ref<const std::string&>())) {
      return invalid_field("as_of", "must be an RFC 3339 time");
    }
    out.as_of = parse_rfc3339(v->get_ref<const std::string&>());
  }
  if (const json* v = r->take("dry_run"); v != nullptr) {
    if (!v->is_boolean()) return invalid_field("dry_run", "must be true or false");
    out.dry_run = v->get<bool>();
  }
  if (auto f = r->finish()) return *f;
  return out;
}

// `Op` is WriteOp (one write operation) or ChunkedOp (a maintenance job in pieces).
template <class Op>
void add_admin_write(Router& router, Services& s, std::string pattern,
                     std::function<Result<Op>(const json&, const Context&)> make) {
  router.add_async(http::verb::post, std::move(pattern),
                   [&s, make](const Request& req, Context& ctx, Respond respond) {
                     std::optional<Response> refusal;
                     auto who = authorize(s, req, ctx, admin_only, refusal);
                     if (!who) return respond(std::move(*refusal));
                     auto body = read_json_body(req, true);
                     if (!body) return respond(error_response(body.error()));
                     auto op = make(*body, ctx);
                     if (!op) return respond(error_response(op.error()));
                     if constexpr (std::is_same_v<Op, ChunkedOp>) {
                       submit_chunked_write(s, req, ctx, *who, *body, std::move(*op),
                                            std::move(respond));
                     } else {
                       submit_write(s, req, ctx, *who, *body, std::move(*op), std::move(respond));
                     }
                   });
}

// An expiry run in pieces of `chunk` members (submit_chunked_write): the first piece finds the
// members with something due, every piece expires the next `chunk` of them. Expiring is safe to
// repeat, so a run cut short is finished by running it again.
ChunkedOp expiry_run_in_chunks(TimePoint as_of, bool dry_run, std::size_t chunk) {
  struct Progress {
    std::optional<std::vector<std::string>> members;
    std::size_t next = 0;
    ExpiryRunResult total;
  };
  auto progress = std::make_shared<Progress>();
  return [progress, as_of, dry_run, chunk](Writer& w) {
    Progress& p = *progress;
    const Actor actor{"admin"};
    if (!p.members) p.members = w.expiry_candidates(as_of);
    const std::size_t end = std::min(p.members->size(), p.next + chunk);
    const std::vector<std::string> slice(p.members->begin() + static_cast<std::ptrdiff_t>(p.next),
                                         p.members->begin() + static_cast<std::ptrdiff_t>(end));
    auto piece = w.expire_members(slice, as_of, dry_run, actor);
    if (!piece)
      return ChunkStep{true, outcome(piece, http::status::ok, [](auto&) { return json{}; })};
    p.total.members += piece->members;
    p.total.entries += piece->entries;
    p.total.points += piece->points;
    p.next = end;
    ChunkStep step;
    step.done = p.next >= p.members->size();
    step.outcome.body = json{{"members", p.total.members},
                             {"entries", p.total.entries},
                             {"points", p.total.points},
                             {"dry_run", dry_run}};
    return step;
  };
}

// `encore-admin tiers recompute` in pieces of `chunk` members, in member id order.
ChunkedOp tier_recompute_in_chunks(std::size_t chunk) {
  struct Progress {
    std::string after;
    std::int64_t changed = 0;
  };
  auto progress = std::make_shared<Progress>();
  return [progress, chunk](Writer& w) {
    Progress& p = *progress;
    auto piece = w.recompute_tiers(p.after, chunk);
    if (!piece)
      return ChunkStep{true, outcome(piece, http::status::ok, [](auto&) { return json{}; })};
    p.changed += piece->changed;
    p.after = piece->last_member_id;
    ChunkStep step;
    step.done = piece->members < static_cast<std::int64_t>(chunk);
    step.outcome.body = json{{"changed", p.changed}};
    return step;
  };
}

}  // namespace

void add_admin_routes(Router& router, Services& s) {
  router.add(http::verb::get, "/v1/program", [&s](const Request& req, Context& ctx) {
    std::optional<Response> refusal;
    if (!authorize(s, req, ctx, admin_only, refusal)) return std::move(*refusal);
    return json_response(http::status::ok, s.ledger.program().source);
  });

  router.add(http::verb::get, "/metrics", [&s](const Request& req, Context& ctx) {
    std::optional<Response> refusal;
    if (!authorize(s, req, ctx, admin_only, refusal)) return std::move(*refusal);
    Response res{http::status::ok, 11};
    res.set(http::field::content_type, "text/plain; version=0.0.4");
    res.body() = s.metrics.render_requests() + ledger_gauges(s);
    return res;
  });

  add_admin_write<ChunkedOp>(router, s, "/v1/admin/expiry-runs",
                             [&s](const json& body, const Context&) -> Result<ChunkedOp> {
                               auto request = decode_expiry_run(body);
                               if (!request) return request.error();
                               auto as_of = request->as_of.value_or(s.ledger.clock().now());
                               return expiry_run_in_chunks(as_of, request->dry_run,
                                                           s.maintenance_chunk_members);
                             });

  add_admin_write<WriteOp>(router, s, "/v1/members/{member_id}/erase",
                           [](const json& body, const Context& ctx) -> Result<WriteOp> {
                             // Optional body {"reason": "..."}: recorded with the key's name.
                             std::optional<std::string> reason;
                             if (!body.is_null()) {
                               if (!body.is_object())
                                 return invalid_field("", "must be a JSON object");
                               for (const auto& [key, value] : body.items()) {
                                 if (key != "reason") return invalid_field(key, "unknown field");
                                 if (!value.is_string())
                                   return invalid_field("reason", "must be a string");
                                 reason = value.get<std::string>();
                               }
                             }
                             return WriteOp{[id = std::string(ctx.param("member_id")), reason,
                                             actor = Actor{ctx.key_name}](Writer& w) {
                               return outcome(w.erase_member(id, reason, actor), http::status::ok,
                                              [](const MemberProfile& m) { return encode(m); });
                             }};
                           });

  add_admin_write<ChunkedOp>(router, s, "/v1/admin/tiers/recompute",
                             [&s](const json& body, const Context&) -> Result<ChunkedOp> {
                               if (!body.is_null() && !(body.is_object() && body.empty())) {
                                 return invalid_field("", "recompute takes no body");
                               }
                               return tier_recompute_in_chunks(s.maintenance_chunk_members);
                             });
}

}  // namespace encore::api
