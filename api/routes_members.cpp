// /v1/members...: enrolment, profile, balance, entries, tier history.
#include <charconv>

#include "api/codec.h"
#include "api/problem.h"
#include "api/routes.h"

namespace encore::api {
namespace {

using nlohmann::json;
const std::vector<Role> any_role = {Role::pos, Role::app, Role::admin};

template <class T, class Encode>
Response read_response(const Result<T>& result, Encode encode) {
  if (!result) return error_response(result.error());
  return json_response(http::status::ok, encode(result.value()));
}

}  // namespace

void add_member_routes(Router& router, Services& s) {
  router.add_async(http::verb::post, "/v1/members",
                   [&s](const Request& req, Context& ctx, Respond respond) {
                     std::optional<Response> refusal;
                     auto who = authorize(s, req, ctx, any_role, refusal);
                     if (!who) return respond(std::move(*refusal));
                     auto body = read_json_body(req, false);
                     if (!body) return respond(error_response(body.error()));
                     auto request = decode_enrol(*body);
                     if (!request) return respond(error_response(request.error()));
                     Actor actor{who->name};
                     submit_write(
                         s, req, ctx, *who, *body,
                         [request = *request, actor](Writer& w) {
                           return outcome(w.enrol(request, actor), http::status::created,
                                          [](const MemberProfile& m) { return encode(m); });
                         },
                         std::move(respond));
                   });

  router.add(http::verb::get, "/v1/members/{member_id}", [&s](const Request& req, Context& ctx) {
    std::optional<Response> refusal;
    if (!authorize(s, req, ctx, any_role, refusal)) return std::move(*refusal);
    return read_response(s.ledger.member(std::string(ctx.param("member_id"))),
                         [](const MemberProfile& m) { return encode(m); });
  });

  router.add_async(http::verb::patch, "/v1/members/{member_id}",
                   [&s](const Request& req, Context& ctx, Respond respond) {
                     std::optional<Response> refusal;
                     auto who = authorize(s, req, ctx, {Role::app, Role::admin}, refusal);
                     if (!who) return respond(std::move(*refusal));
                     auto body = read_json_body(req, false);
                     if (!body) return respond(error_response(body.error()));
                     auto patch = decode_member_patch(*body);
                     if (!patch) return respond(error_response(patch.error()));
                     std::string id(ctx.param("member_id"));
                     submit_write(
                         s, req, ctx, *who, *body,
                         [id, patch = *patch](Writer& w) {
                           return outcome(w.update_member(id, patch), http::status::ok,
                                          [](const MemberProfile& m) { return encode(m); });
                         },
                         std::move(respond));
                   });

  router.add(http::verb::get, "/v1/members/{member_id}/balance",
             [&s](const Request& req, Context& ctx) {
               std::optional<Response> refusal;
               if (!authorize(s, req, ctx, any_role, refusal)) return std::move(*refusal);
               auto balance = s.ledger.balance(std::string(ctx.param("member_id")));
               if (!balance) return error_response(balance.error());
               return json_text_response(http::status::ok, render_balance(*balance));
             });

  router.add(
      http::verb::get, "/v1/members/{member_id}/entries", [&s](const Request& req, Context& ctx) {
        std::optional<Response> refusal;
        if (!authorize(s, req, ctx, any_role, refusal)) return std::move(*refusal);
        auto limit = page_limit(ctx, default_entries_page, max_entries_page);
        if (!limit) return error_response(limit.error());
        auto cursor = page_cursor(ctx);
        if (!cursor) return error_response(cursor.error());
        return read_response(s.ledger.entries(std::string(ctx.param("member_id")), *cursor, *limit),
                             [](const EntriesPage& p) { return encode(p); });
      });

  router.add(http::verb::get, "/v1/members/{member_id}/tier-history",
             [&s](const Request& req, Context& ctx) {
               std::optional<Response> refusal;
               if (!authorize(s, req, ctx, any_role, refusal)) return std::move(*refusal);
               std::string id(ctx.param("member_id"));
               auto history = s.ledger.tier_history(id);
               if (!history) return error_response(history.error());
               auto member = s.ledger.member(id);
               if (!member) return error_response(member.error());
               return json_response(http::status::ok,
                                    encode_tier_history(id, member->tier, *history));
             });
}

}  // namespace encore::api
