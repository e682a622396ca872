// Enrolment and member contact data (SPEC 5 members routes, SPEC 6 `members erase`).
#include "ledger/reminder_store.h"
#include "ledger/writer_impl.h"

namespace encore {
namespace {

std::optional<Error> check_contact(const std::optional<std::string>& email,
                                   const std::optional<std::string>& phone,
                                   const std::optional<std::string>& locale) {
  if (auto e = check_text(email, "email", max_contact_length)) return e;
  if (email && email->find('@') == std::string::npos) {
    return make_error(ErrorCode::invalid_request, "email", "must be an email address");
  }
  if (auto e = check_text(phone, "phone", 32)) return e;
  if (auto e = check_text(locale, "locale", 35)) return e;
  if (locale) {
    for (char c : *locale) {
      bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_';
      if (!ok) return make_error(ErrorCode::invalid_request, "locale", "must be a BCP 47 tag");
    }
  }
  return std::nullopt;
}

}  // namespace

Result<MemberProfile> Writer::enrol(const EnrolRequest& request, const Actor& actor) {
  (void)actor;
  if (auto e = check_member_id(request.member_id, "member_id")) return *e;
  if (auto e = check_contact(request.email, request.phone, request.locale)) return *e;
  return isolated<MemberProfile>([&](Posting& p) -> Result<MemberProfile> {
    if (p.store().member(request.member_id)) {
      return make_error(ErrorCode::member_exists, "member_id",
                        "member '" + request.member_id + "' is already enrolled");
    }
    MemberRow row;
    row.member_id = request.member_id;
    row.email = request.email;
    row.phone = request.phone;
    row.locale = request.locale;
    row.marketing_opt_in = request.marketing_opt_in;
    row.enrolled_at = p.now();
    row.tier = p.program().tiers.front().name;
    row.tier_reached_at = p.now();
    p.store().insert_member(row);
    p.store().insert_tier_change(row.member_id,
                                 TierChange{std::nullopt, row.tier, p.now(), 0, "enrolled"});
    MemberState fresh;
    fresh.row = row;
    fresh.orders_after = p.now() - std::chrono::days{p.program().tier_window_days};
    const MemberState& state = p.adopt(std::move(fresh));
    return member_profile(state, p.program(), p.now(), 0);
  });
}

Result<MemberProfile> Writer::update_member(const std::string& member_id,
                                            const MemberPatch& patch) {
  auto pick = [](const auto& field, const std::optional<std::string>& current) {
    return field ? *field : current;
  };
  return isolated<MemberProfile>([&](Posting& p) -> Result<MemberProfile> {
    auto state = p.load(member_id, "member_id");
    if (!state) return state.error();
    auto& row = state->row;
    auto email = pick(patch.email, row.email);
    auto phone = pick(patch.phone, row.phone);
    auto locale = pick(patch.locale, row.locale);
    if (auto e = check_contact(email, phone, locale)) return *e;
    row.email = email;
    row.phone = phone;
    row.locale = locale;
    if (patch.marketing_opt_in) row.marketing_opt_in = *patch.marketing_opt_in;
    p.store().update_member_contact(row);
    if (!row.marketing_opt_in) p.store().reminders().cancel_pending_reminders(member_id, "opt-out");
    return member_profile(p.store(), *state, p.program(), p.now());
  });
}

Result<MemberProfile> Writer::erase_member(const std::string& member_id,
                                           const std::optional<std::string>& reason,
                                           const Actor& actor) {
  if (reason) {
    if (auto e = check_reason(*reason)) return *e;
  }
  // Privacy erasure: personal data goes, ledger amounts stay (the chain does not cover
  // contact fields, so verify still passes).
  return isolated<MemberProfile>([&](Posting& p) -> Result<MemberProfile> {
    auto state = p.load(member_id, "member_id");
    if (!state) return state.error();
    auto& row = state->row;
    row.email.reset();
    row.phone.reset();
    row.locale.reset();
    row.marketing_opt_in = false;
    row.erased_at = p.now();
    p.store().update_member_contact(row);
    p.store().insert_member_erasure(member_id, p.now(), actor.name, reason);
    p.store().reminders().cancel_pending_reminders(member_id, "erased");
    return member_profile(p.store(), *state, p.program(), p.now());
  });
}

}  // namespace encore
