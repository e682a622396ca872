#include "ledger/reminders.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "ledger/hash.h"
#include "ledger/member_state.h"
#include "ledger/rules.h"
#include "ledger/time_zone.h"

namespace encore {

using std::chrono::days;

namespace {

std::string_view builtin_template(ReminderKind kind) {
  switch (kind) {
    case ReminderKind::expiring_soon:
      return "You have {expiring_points} points expiring on {expires_on}.";
    case ReminderKind::dormant:
      return "You have {points} points waiting for you.";
    case ReminderKind::second_purchase:
      return "Thank you for your first purchase! You have {points} points.";
  }
  return "";
}

// The member's locale when it has a template for this kind, else the program's default.
std::pair<std::string, std::string_view> pick_template(const Reminders& config,
                                                       const std::optional<std::string>& locale,
                                                       ReminderKind kind) {
  const std::string kind_name(reminder_kind_name(kind));
  auto find = [&](const std::string& loc) -> const std::string* {
    auto it = config.templates.find(loc);
    if (it == config.templates.end()) return nullptr;
    auto t = it->second.find(kind_name);
    return t == it->second.end() ? nullptr : &t->second;
  };
  if (locale) {
    if (const std::string* t = find(*locale)) return {*locale, *t};
  }
  if (const std::string* t = find(config.default_locale)) return {config.default_locale, *t};
  return {config.default_locale, builtin_template(kind)};
}

struct Candidate {
  std::string member_id;
  std::string dedupe_key;
  Points expiring_points = 0;
  std::optional<TimePoint> first_expiry;
  bool needs_min_available = false;  // dormant: the balance condition is on what is available
};

class Planner {
 public:
  Planner(Store& store, const Program& program, TimePoint now, const KeepGoing& keep_going)
      : keep_going_(keep_going),
        store_(store),
        reminders_(store.reminders()),
        program_(program),
        config_(*program.reminders),
        now_(now),
        today_(local_date(now, program.zone)) {
    // "Any 30 days": the 30 local days ending today.
    window_start_ =
        start_of_local_day(add_days(today_, -29), program.zone) - std::chrono::seconds{1};
    // One range scan for the caps of the whole pass instead of a query per candidate.
    const auto gap_start =
        start_of_local_day(add_days(today_, -config_.min_gap_days), program.zone) -
        std::chrono::seconds{1};
    reminders_.scan_recent_reminders(std::min(window_start_, gap_start),
                                     [&](const std::string& id, TimePoint created_at) {
                                       auto& h = history_[id];
                                       if (!h.last_created_at || created_at > *h.last_created_at)
                                         h.last_created_at = created_at;
                                       if (created_at > window_start_) ++h.count_since;
                                     });
  }

  std::vector<ReminderRow> run() {
    for (const auto& rule : config_.rules) {
      ask_keep_going();
      std::vector<Candidate> candidates;
      switch (rule.kind) {
        case ReminderKind::expiring_soon:
          candidates = expiring(rule);
          break;
        case ReminderKind::dormant:
          candidates = dormant(rule);
          break;
        case ReminderKind::second_purchase:
          candidates = single_purchase(rule);
          break;
      }
      for (auto& c : candidates) {
        tick();
        consider(rule, c);
      }
    }
    return std::move(out_);
  }

 private:
  void ask_keep_going() const {
    if (keep_going_ && !keep_going_()) throw ReportStopped();
  }
  // One unit of work (a row scanned, a candidate considered): asks every 1,024.
  void tick() {
    constexpr std::uint64_t check_every = 1024;
    if (++units_ % check_every == 0) ask_keep_going();
  }

  std::vector<Candidate> expiring(const ReminderRule& rule) {
    std::vector<int> windows = rule.days_before;
    std::sort(windows.begin(), windows.end());
    const TimePoint until = now_ + days{windows.back()};
    std::unordered_map<std::string, std::vector<std::pair<TimePoint, Points>>> lots;
    reminders_.scan_expiring_lots(now_, until, [&](const std::string& id, Points p, TimePoint at) {
      tick();
      lots[id].emplace_back(at, p);
    });
    if (program_.expiry.policy == ExpiryPolicy::inactivity) {
      // Lots without a fixed expiry end at the member's inactivity deadline.
      const auto from = now_ - days{program_.expiry.days + 2};
      const auto to = until - days{program_.expiry.days} + days{1};
      reminders_.scan_reachable_by_activity(from, to, rule.min_points, [&](const MemberRow& m) {
        tick();
        auto deadline = inactivity_deadline(program_, m.last_activity_at.value_or(m.enrolled_at));
        if (!deadline || *deadline <= now_ || *deadline > until) return;
        for (const auto& lot : store_.open_lots(m.member_id)) {
          if (!lot.expires_at) lots[m.member_id].emplace_back(*deadline, lot.remaining);
        }
      });
    }
    std::vector<Candidate> out;
    for (auto& [member_id, items] : lots) {
      std::sort(items.begin(), items.end());
      // The most urgent window that holds enough points; its earliest expiry names the points.
      for (int window : windows) {
        const TimePoint limit = now_ + days{window};
        Points sum = 0;
        for (const auto& [at, p] : items) {
          if (at <= limit) sum += p;
        }
        if (sum <= 0 || sum < rule.min_points) continue;
        Candidate c;
        c.member_id = member_id;
        c.expiring_points = sum;
        c.first_expiry = items.front().first;
        c.dedupe_key = rule.id + "|" + std::to_string(window) + "|" + member_id + "|" +
                       expires_on(*c.first_expiry);
        out.push_back(std::move(c));
        break;
      }
    }
    std::sort(out.begin(), out.end(),
              [](const Candidate& a, const Candidate& b) { return a.member_id < b.member_id; });
    return out;
  }

  std::vector<Candidate> dormant(const ReminderRule& rule) {
    std::vector<Candidate> out;
    reminders_.scan_reachable_dormant(
        now_ - days{rule.days}, std::max<Points>(rule.min_points, 1), [&](const MemberRow& m) {
          tick();
          Candidate c;
          c.member_id = m.member_id;
          c.needs_min_available = true;
          const std::string since =
              m.last_purchase_at ? std::to_string(m.last_purchase_at->time_since_epoch().count())
                                 : "never";
          c.dedupe_key = rule.id + "|" + m.member_id + "|" + since;
          out.push_back(std::move(c));
        });
    return out;
  }

  std::vector<Candidate> single_purchase(const ReminderRule& rule) {
    std::vector<Candidate> out;
    reminders_.scan_reachable_single_purchase(now_ - days{rule.days}, [&](const MemberRow& m) {
      tick();
      out.push_back(Candidate{m.member_id, rule.id + "|" + m.member_id, 0, std::nullopt, false});
    });
    return out;
  }

  // Points expire at the end of the local day before the instant `at` (as balances show).
  std::string expires_on(TimePoint at) const {
    return format_date(local_date(at - std::chrono::seconds{1}, program_.zone));
  }

  bool within_caps(const std::string& member_id) {
    ReminderHistory h;
    if (auto it = history_.find(member_id); it != history_.end()) h = it->second;
    auto& mine = run_[member_id];
    std::optional<TimePoint> last = h.last_created_at;
    if (mine.count > 0) last = now_;
    if (last) {
      auto gap =
          (date::sys_days{today_} - date::sys_days{local_date(*last, program_.zone)}).count();
      if (gap < config_.min_gap_days) return false;
    }
    return h.count_since + mine.count < config_.max_per_30_days;
  }

  void consider(const ReminderRule& rule, const Candidate& c) {
    if (keys_.contains(c.dedupe_key) || reminders_.reminder_key_exists(c.dedupe_key)) return;
    if (!within_caps(c.member_id)) return;
    auto state = load_member_state(store_, c.member_id);
    if (!state || !state->row.marketing_opt_in || state->row.erased_at) return;
    const Points points = available(compute_totals(*state, program_, now_), state->row.debt);
    if (c.needs_min_available && (points < rule.min_points || points <= 0)) return;

    ReminderRow row;
    row.dedupe_key = c.dedupe_key;
    row.reminder_id = reminder_id_for(c.dedupe_key);
    row.member_id = c.member_id;
    row.rule_id = rule.id;
    row.kind = rule.kind;
    row.points = points;
    row.expiring_points = c.expiring_points;
    if (c.first_expiry) row.expires_on = expires_on(*c.first_expiry);
    row.created_at = now_;
    row.next_attempt_at = now_;
    auto [locale, text] = pick_template(config_, state->row.locale, rule.kind);
    row.locale = locale;
    row.message = render_reminder(text, row);
    keys_.insert(c.dedupe_key);
    run_[c.member_id].count += 1;
    out_.push_back(std::move(row));
  }

  struct Planned {
    std::int64_t count = 0;
  };

  const KeepGoing& keep_going_;
  std::uint64_t units_ = 0;
  Store& store_;
  ReminderStore& reminders_;
  const Program& program_;
  const Reminders& config_;
  TimePoint now_;
  Date today_;
  TimePoint window_start_;
  std::unordered_set<std::string> keys_;
  std::unordered_map<std::string, Planned> run_;
  std::unordered_map<std::string, ReminderHistory> history_;  // recent, from the outbox
  std::vector<ReminderRow> out_;
};

TimePoint slot_on(const Program& program, Date day) {
  const auto& at = program.reminders ? program.reminders->run_at : std::string("10:00");
  const int hours = (at[0] - '0') * 10 + (at[1] - '0');
  const int minutes = (at[3] - '0') * 10 + (at[4] - '0');
  auto local = date::local_days{day} + std::chrono::hours{hours} + std::chrono::minutes{minutes};
  return date::floor<std::chrono::seconds>(
      date::make_zoned(program.zone, local, date::choose::earliest).get_sys_time());
}

}  // namespace

std::vector<ReminderRow> plan_reminders(Store& store, const Program& program, TimePoint now,
                                        const KeepGoing& keep_going) {
  if (!program.reminders || program.reminders->rules.empty()) return {};
  return Planner(store, program, now, keep_going).run();
}

std::string reminder_id_for(const std::string& dedupe_key) {
  auto h = sha256(dedupe_key);
  return "rem_" + to_hex(h.data(), 16);
}

std::string render_reminder(std::string_view text, const ReminderRow& row) {
  std::string out;
  out.reserve(text.size() + 32);
  for (std::size_t i = 0; i < text.size();) {
    if (text[i] == '{') {
      const auto close = text.find('}', i);
      if (close != std::string_view::npos) {
        const auto name = text.substr(i + 1, close - i - 1);
        if (name == "points") {
          out += std::to_string(row.points);
        } else if (name == "expiring_points") {
          out += std::to_string(row.expiring_points);
        } else if (name == "expires_on") {
          out += row.expires_on.value_or("");
        } else if (name == "member_id") {
          out += row.member_id;
        } else {
          out.append(text.substr(i, close - i + 1));  // validation refuses these
        }
        i = close + 1;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

nlohmann::json reminder_json(const ReminderRow& row) {
  return {{"reminder_id", row.reminder_id},
          {"member_id", row.member_id},
          {"rule_id", row.rule_id},
          {"kind", reminder_kind_name(row.kind)},
          {"locale", row.locale},
          {"message", row.message},
          {"points", row.points},
          {"expiring_points", row.expiring_points},
          {"expires_on", row.expires_on ? nlohmann::json(*row.expires_on) : nlohmann::json()},
          {"created_at", format_rfc3339(row.created_at)}};
}

std::string due_run_date(const Program& program, TimePoint now) {
  Date today = local_date(now, program.zone);
  if (now < slot_on(program, today)) today = add_days(today, -1);
  return format_date(today);
}

bool reminder_run_due(Ledger& ledger, TimePoint now) {
  std::optional<ReminderSchedule> schedule;
  ledger.with_reader([&](Store& s) { schedule = s.reminders().reminder_schedule(); });
  return !schedule || schedule->last_run_date < due_run_date(ledger.program(), now);
}

TimePoint next_run_at(const Program& program, TimePoint now) {
  Date today = local_date(now, program.zone);
  TimePoint slot = slot_on(program, today);
  return slot > now ? slot : slot_on(program, add_days(today, 1));
}

ReminderRunResult run_reminder_planning(Ledger& ledger, const ReminderRunOptions& options) {
  // At least one row per transaction: 0 would never finish.
  const std::size_t rows_per_transaction = std::max<std::size_t>(1, options.rows_per_transaction);
  const TimePoint now = ledger.clock().now();
  std::vector<ReminderRow> planned;
  ReminderRunResult result;
  result.run_date = due_run_date(ledger.program(), now);
  try {
    ledger.with_reader(
        [&](Store& s) { planned = plan_reminders(s, ledger.program(), now, options.keep_going); });
  } catch (const ReportStopped&) {
    result.complete = false;  // nothing written: the next run plans it all
    return result;
  }
  // One transaction per chunk; the last one (also when nothing is planned) records the run date.
  for (std::size_t next = 0;;) {
    const std::size_t end = std::min(planned.size(), next + rows_per_transaction);
    const bool last = end == planned.size();
    ledger.write_batch([&](Writer& w) {
      Store& store = w.store();
      for (std::size_t i = next; i < end; ++i) {
        auto& row = planned[i];
        auto member = store.member(row.member_id);  // consent may have changed since the snapshot
        if (!member || !member->marketing_opt_in || member->erased_at) continue;
        if (store.reminders().insert_reminder(row)) result.planned.push_back(std::move(row));
      }
      if (!last) return;
      auto schedule = store.reminders().reminder_schedule();
      if (!schedule || schedule->last_run_date < result.run_date) {
        store.reminders().set_reminder_schedule(ReminderSchedule{result.run_date, now});
      }
    });
    next = end;
    if (last) break;
    if (options.after_each_transaction) options.after_each_transaction();
    if (options.keep_going && !options.keep_going()) {
      result.complete = false;
      break;
    }
  }
  return result;
}

std::chrono::milliseconds retry_delay(int attempts, std::chrono::milliseconds base,
                                      std::chrono::milliseconds cap, double jitter_unit) {
  const int doublings = std::clamp(attempts - 1, 0, 30);
  auto delay = base.count() * (std::int64_t{1} << doublings);
  delay = std::min<std::int64_t>(delay, cap.count());
  const double factor = 0.8 + 0.4 * std::clamp(jitter_unit, 0.0, 1.0);
  return std::chrono::milliseconds{static_cast<std::int64_t>(static_cast<double>(delay) * factor)};
}

std::vector<ReminderReportRow> reminder_report(const Ledger& ledger) {
  std::vector<ReminderReportRow> out;
  ledger.with_reader([&](Store& s) { out = reminder_report(s, ledger.program()); });
  return out;
}

std::vector<ReminderReportRow> reminder_report(Store& store, const Program& program) {
  const std::int64_t attribution =
      std::int64_t{program.reminders ? program.reminders->attribution_days : 14} * 86'400;
  auto figures = store.reminders().reminder_report(attribution);
  std::vector<ReminderReportRow> out;
  auto kind_of = [&](const std::string& id) -> std::string {
    if (!program.reminders) return "";
    for (const auto& r : program.reminders->rules) {
      if (r.id == id) return std::string(reminder_kind_name(r.kind));
    }
    return "";
  };
  // Every rule of the program shows, even before its first reminder.
  if (program.reminders) {
    for (const auto& r : program.reminders->rules) {
      ReminderReportRow row;
      row.figures.rule_id = r.id;
      for (const auto& f : figures) {
        if (f.rule_id == r.id) row.figures = f;
      }
      out.push_back(std::move(row));
    }
  }
  for (const auto& f : figures) {
    if (std::none_of(out.begin(), out.end(),
                     [&](const ReminderReportRow& r) { return r.figures.rule_id == f.rule_id; })) {
      out.push_back(ReminderReportRow{f, "", 0});
    }
  }
  for (auto& row : out) {
    row.kind = kind_of(row.figures.rule_id);
    if (row.figures.delivered > 0) {
      row.conversion_rate_bp = row.figures.converted * 10'000 / row.figures.delivered;
    }
  }
  return out;
}

nlohmann::json reminder_report_json(const std::vector<ReminderReportRow>& rows) {
  auto rules = nlohmann::json::array();
  for (const auto& r : rows) {
    rules.push_back({{"rule_id", r.figures.rule_id},
                     {"kind", r.kind.empty() ? nlohmann::json() : nlohmann::json(r.kind)},
                     {"planned", r.figures.planned},
                     {"pending", r.figures.pending},
                     {"delivered", r.figures.delivered},
                     {"failed", r.figures.failed},
                     {"cancelled", r.figures.cancelled},
                     {"converted", r.figures.converted},
                     {"conversion_rate_bp", r.conversion_rate_bp},
                     {"points_redeemed_after", r.figures.points_redeemed_after}});
  }
  return {{"rules", rules}};
}

}  // namespace encore
