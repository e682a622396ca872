// Purchases, refunds, redemptions, holds, adjustments, reversals and quotes (SPEC 4, 5).
#include <charconv>
#include <vector>

#include "api/codec.h"
#include "api/problem.h"
#include "api/routes.h"

namespace encore::api {
namespace {

using nlohmann::json;
using Roles = std::vector<Role>;

// A POST route: authorize, decode the body strictly, then run the op on the writer.
// `make_op(decoded, ctx, actor)` returns the WriteOp.
template <class Decode, class MakeOp>
AsyncHandler write_route(Services& s, Roles roles, bool empty_body_ok, Decode decode,
                         MakeOp make_op) {
  return [&s, roles = std::move(roles), empty_body_ok, decode, make_op](
             const Request& req, Context& ctx, Respond respond) {
    std::optional<Response> refusal;
    auto principal = authorize(s, req, ctx, roles, refusal);
    if (!principal) return respond(std::move(*refusal));
    auto body = read_json_body(req, empty_body_ok);
    if (!body) return respond(error_response(body.error()));
    auto decoded = decode(*body);
    if (!decoded) return respond(error_response(decoded.error()));
    submit_write(s, req, ctx, *principal, *body, make_op(*decoded, ctx, Actor{principal->name}),
                 std::move(respond));
  };
}

Result<std::int64_t> entry_id_param(const Context& ctx) {
  auto text = ctx.param("entry_id");
  std::int64_t id = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), id);
  if (r.ec != std::errc{} || r.ptr != text.data() + text.size() || id < 1) {
    return make_error(ErrorCode::invalid_request, "entry_id", "must be a positive integer");
  }
  return id;
}

const Roles pos_admin = {Role::pos, Role::admin};

}  // namespace

void add_points_routes(Router& router, Services& s) {
  router.add_async(http::verb::post, "/v1/purchases",
                   write_route(s, pos_admin, false, decode_purchase,
                               [](PurchaseRequest r, const Context&, Actor a) -> WriteOp {
                                 return [r, a](Writer& w) {
                                   return outcome(
                                       w.purchase(r, a), http::status::created,
                                       [](const PurchaseResult& x) { return render_purchase(x); });
                                 };
                               }));

  router.add_async(http::verb::post, "/v1/refunds",
                   write_route(s, pos_admin, false, decode_refund,
                               [](RefundRequest r, const Context&, Actor a) -> WriteOp {
                                 return [r, a](Writer& w) {
                                   return outcome(w.refund(r, a), http::status::created,
                                                  [](const RefundResult& x) { return encode(x); });
                                 };
                               }));

  router.add_async(http::verb::post, "/v1/redemptions",
                   write_route(s, pos_admin, false, decode_redemption,
                               [](RedemptionRequest r, const Context&, Actor a) -> WriteOp {
                                 return [r, a](Writer& w) {
                                   return outcome(
                                       w.redeem(r, a), http::status::created,
                                       [](const PostingResult& x) { return encode_redemption(x); });
                                 };
                               }));

  router.add_async(
      http::verb::post, "/v1/holds",
      write_route(s, pos_admin, false, decode_hold,
                  [](HoldRequest r, const Context&, Actor a) -> WriteOp {
                    return [r, a](Writer& w) {
                      return outcome(w.create_hold(r, a), http::status::created,
                                     [](const PostingResult& x) {
                                       return encode(*x.hold);  // SPEC: {hold_id, expires_at, ...}
                                     });
                    };
                  }));

  router.add_async(
      http::verb::post, "/v1/holds/{hold_id}/capture",
      write_route(s, pos_admin, true, decode_capture,
                  [](std::optional<Points> points, const Context& ctx, Actor a) -> WriteOp {
                    return [id = std::string(ctx.param("hold_id")), points, a](Writer& w) {
                      return outcome(w.capture_hold(id, points, a), http::status::ok,
                                     [](const PostingResult& x) { return encode_capture(x); });
                    };
                  }));

  router.add_async(http::verb::post, "/v1/holds/{hold_id}/release",
                   write_route(
                       s, pos_admin, true,
                       [](const json& body) -> Result<Unit> {
                         if (!body.is_null() && !(body.is_object() && body.empty())) {
                           return make_error(ErrorCode::invalid_request, "",
                                             "release takes no body");
                         }
                         return Unit{};
                       },
                       [](Unit, const Context& ctx, Actor a) -> WriteOp {
                         return [id = std::string(ctx.param("hold_id")), a](Writer& w) {
                           return outcome(w.release_hold(id, a), http::status::ok,
                                          [](const PostingResult& x) { return encode_release(x); });
                         };
                       }));

  router.add_async(http::verb::post, "/v1/adjustments",
                   write_route(s, {Role::admin}, false, decode_adjustment,
                               [](AdjustRequest r, const Context&, Actor a) -> WriteOp {
                                 return [r, a](Writer& w) {
                                   return outcome(
                                       w.adjust(r, a), http::status::created,
                                       [](const PostingResult& x) { return encode_posting(x); });
                                 };
                               }));

  router.add_async(
      http::verb::post, "/v1/entries/{entry_id}/reversal",
      write_route(
          s, {Role::admin}, false, decode_reversal,
          [](std::string reason, const Context& ctx, Actor a) -> WriteOp {
            auto id = entry_id_param(ctx);
            return [id, reason, a](Writer& w) -> WriteOutcome {
              if (!id)
                return WriteOutcome{http::status::bad_request, nullptr, std::nullopt, id.error()};
              return outcome(w.reverse_entry(*id, reason, a), http::status::created,
                             [](const PostingResult& x) { return encode_posting(x); });
            };
          }));

  router.add(http::verb::get, "/v1/quote", [&s](const Request& req, Context& ctx) {
    std::optional<Response> refusal;
    if (!authorize(s, req, ctx, {Role::pos, Role::admin}, refusal)) return std::move(*refusal);
    auto member = ctx.query_value("member_id");
    auto amount_text = ctx.query_value("amount_minor");
    if (!member) {
      return error_response(make_error(ErrorCode::invalid_request, "member_id", "is required"));
    }
    std::int64_t amount = 0;
    if (!amount_text ||
        std::from_chars(amount_text->data(), amount_text->data() + amount_text->size(), amount)
                .ptr != amount_text->data() + amount_text->size()) {
      return error_response(make_error(ErrorCode::invalid_request, "amount_minor",
                                       "must be an integer from 1 to 2^53-1"));
    }
    auto quote = s.ledger.quote(std::string(*member), amount);
    if (!quote) return error_response(quote.error());
    return json_response(http::status::ok, encode(*quote));
  });
}

}  // namespace encore::api
