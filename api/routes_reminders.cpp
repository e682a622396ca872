#include "api/routes_reminders.h"

#include "api/problem.h"
#include "api/routes_reports.h"
#include "ledger/json_reader.h"
#include "ledger/reminders.h"
#include "ledger/time_zone.h"

namespace encore::api {
namespace {

using nlohmann::json;
const std::vector<Role> admin_only = {Role::admin};

Response no_reminders() {
  return problem_response(http::status::conflict, "reminders_not_configured",
                          "The program has no reminders block",
                          "add `reminders` to the program file to plan and send reminders");
}

json rows_json(const std::vector<ReminderRow>& rows, bool with_state) {
  auto out = json::array();
  for (const auto& r : rows) {
    auto item = reminder_json(r);
    if (with_state) {
      item["state"] = reminder_state_name(r.state);
      item["attempts"] = r.attempts;
      item["delivered_at"] = r.delivered_at ? json(format_rfc3339(*r.delivered_at)) : json();
      item["last_error"] = r.last_error ? json(*r.last_error) : json();
    }
    out.push_back(std::move(item));
  }
  return out;
}

}  // namespace

void add_reminder_routes(Router& router, Services& s, ReminderDispatcher* dispatcher,
                         ReportRunner& runner) {
  router.add_async(
      http::verb::post, "/v1/admin/reminders/run",
      [&s, dispatcher](const Request& req, Context& ctx, Respond respond) {
        std::optional<Response> refusal;
        if (!authorize(s, req, ctx, admin_only, refusal)) return respond(std::move(*refusal));
        auto body = read_json_body(req, true);
        if (!body) return respond(error_response(body.error()));
        if (!body->is_null() && !(body->is_object() && body->empty())) {
          return respond(error_response(invalid_field("", "run takes no body")));
        }
        if (dispatcher == nullptr) return respond(no_reminders());
        dispatcher->run_now([respond](const ReminderRunResult* result, const Error* error) {
          if (result == nullptr) {
            return respond(error_response(
                error != nullptr ? *error : make_error(ErrorCode::internal, "", "the run failed")));
          }
          respond(
              json_response(http::status::ok, {{"planned", result->planned.size()},
                                               {"run_date", result->run_date},
                                               {"reminders", rows_json(result->planned, false)}}));
        });
      });

  router.add_async(http::verb::get, "/v1/admin/reminders/plan",
                   [&s, &runner](const Request& req, Context& ctx, Respond respond) {
                     std::optional<Response> refusal;
                     if (!authorize(s, req, ctx, admin_only, refusal))
                       return respond(std::move(*refusal));
                     if (!s.ledger.program().reminders) return respond(no_reminders());
                     // A scan over every member (seconds at a million): on the report thread,
                     // stoppable.
                     run_report(s, runner, respond, [&s](Store& st, const KeepGoing& keep_going) {
                       const auto now = s.ledger.clock().now();
                       const auto rows = plan_reminders(st, s.ledger.program(), now, keep_going);
                       return json{{"dry_run", true},
                                   {"as_of", format_rfc3339(now)},
                                   {"count", rows.size()},
                                   {"reminders", rows_json(rows, false)}};
                     });
                   });

  // The outbox in pages (it holds every reminder ever planned: 600k after one run at 1M members).
  router.add(http::verb::get, "/v1/admin/reminders", [&s](const Request& req, Context& ctx) {
    std::optional<Response> refusal;
    if (!authorize(s, req, ctx, admin_only, refusal)) return std::move(*refusal);
    constexpr std::size_t default_page = 200;
    constexpr std::size_t max_page = 1000;
    auto limit = page_limit(ctx, default_page, max_page);
    if (!limit) return error_response(limit.error());
    auto cursor = page_cursor(ctx);
    if (!cursor) return error_response(cursor.error());
    std::vector<ReminderRow> rows;
    // One row more than the page tells whether another page follows (null on the last page).
    s.ledger.with_reader(
        [&](Store& st) { rows = st.reminders().reminders_after(cursor->value_or(0), *limit + 1); });
    json next;
    if (rows.size() > *limit) {
      rows.resize(*limit);
      next = std::to_string(rows.back().id);
    }
    return json_response(http::status::ok,
                         {{"reminders", rows_json(rows, true)}, {"next_cursor", next}});
  });

  router.add(http::verb::get, "/v1/reports/reminders", [&s](const Request& req, Context& ctx) {
    std::optional<Response> refusal;
    if (!authorize(s, req, ctx, admin_only, refusal)) return std::move(*refusal);
    auto body = reminder_report_json(reminder_report(s.ledger));
    body["attribution_days"] =
        s.ledger.program().reminders ? s.ledger.program().reminders->attribution_days : 14;
    return json_response(http::status::ok, body);
  });
}

}  // namespace encore::api
