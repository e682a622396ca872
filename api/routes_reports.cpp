#include "api/routes_reports.h"

#include <charconv>

#include "api/log.h"
#include "api/problem.h"
#include "ledger/reports.h"

namespace encore::api {
namespace {

using nlohmann::json;
const std::vector<Role> admin_only = {Role::admin};

Response stopping_response() {
  return error_response(
      make_error(ErrorCode::overloaded, "", "the server is stopping; ask for the report again"));
}

Result<int> report_months(const Context& ctx) {
  auto text = ctx.query_value("months");
  if (!text) return default_report_months;
  int months = 0;
  auto r = std::from_chars(text->data(), text->data() + text->size(), months);
  if (r.ec != std::errc{} || r.ptr != text->data() + text->size() || months < 1 ||
      months > max_report_months) {
    return make_error(ErrorCode::invalid_request, "months", "must be an integer from 1 to 120");
  }
  return months;
}

}  // namespace

// Queues the report on the runner; the job answers exactly once, on the runner's thread.
void run_report(Services& s, ReportRunner& runner, const Respond& respond, ReportCompute compute) {
  auto job = [&s, &runner, respond, compute = std::move(compute)](bool run) {
    if (!run) return respond(stopping_response());
    std::optional<Response> response;
    try {
      json body;
      const KeepGoing keep_going = [&runner] { return !runner.stopping(); };
      s.ledger.with_reader([&](Store& st) { body = compute(st, keep_going); });
      response = json_response(http::status::ok, body);
    } catch (const ReportStopped&) {
      response = stopping_response();
    } catch (const std::exception& e) {
      log_error("report failed", {{"error", e.what()}});
      response = error_response(make_error(ErrorCode::internal, "", "the report failed"));
    }
    respond(std::move(*response));
  };
  if (!runner.submit(std::move(job))) {
    respond(runner.stopping()
                ? stopping_response()
                : error_response(make_error(ErrorCode::overloaded, "",
                                            "too many reports are waiting; try again later")));
  }
}

void add_report_routes(Router& router, Services& s, ReportRunner& runner) {
  static_assert(max_report_months == 120, "report_months' message names the bound");
  router.add_async(
      http::verb::get, "/v1/reports/liability",
      [&s, &runner](const Request& req, Context& ctx, Respond respond) {
        std::optional<Response> refusal;
        if (!authorize(s, req, ctx, admin_only, refusal)) {
          return respond(std::move(*refusal));
        }
        auto months = report_months(ctx);
        if (!months) return respond(error_response(months.error()));
        run_report(s, runner, respond,
                   [&s, months = *months](Store& st, const KeepGoing& keep_going) {
                     const auto& program = s.ledger.program();
                     return liability_report_json(
                         liability_report(st, program, s.ledger.clock().now(), months, keep_going),
                         program);
                   });
      });

  router.add_async(http::verb::get, "/v1/reports/repeat-purchase",
                   [&s, &runner](const Request& req, Context& ctx, Respond respond) {
                     std::optional<Response> refusal;
                     if (!authorize(s, req, ctx, admin_only, refusal)) {
                       return respond(std::move(*refusal));
                     }
                     run_report(s, runner, respond, [&s](Store& st, const KeepGoing& keep_going) {
                       const auto& program = s.ledger.program();
                       return repeat_purchase_report_json(
                           repeat_purchase_report(st, program, s.ledger.clock().now(), keep_going),
                           program);
                     });
                   });

  router.add_async(http::verb::get, "/v1/reports/rfm",
                   [&s, &runner](const Request& req, Context& ctx, Respond respond) {
                     std::optional<Response> refusal;
                     if (!authorize(s, req, ctx, admin_only, refusal)) {
                       return respond(std::move(*refusal));
                     }
                     run_report(s, runner, respond, [&s](Store& st, const KeepGoing& keep_going) {
                       return rfm_report_json(rfm_report(st, s.ledger.clock().now(), keep_going),
                                              s.ledger.program());
                     });
                   });
}

}  // namespace encore::api
