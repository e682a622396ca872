// JSON <-> ledger types for the HTTP API (SPEC 5, docs/openapi.yaml). Decoding is strict:
// unknown keys, wrong types and out-of-range integers are `invalid_request` naming the field.
#pragma once

#include <nlohmann/json.hpp>

#include "ledger/ledger.h"
#include "ledger/result.h"
#include "ledger/types.h"

namespace encore::api {

Result<EnrolRequest> decode_enrol(const nlohmann::json& body);
Result<MemberPatch> decode_member_patch(const nlohmann::json& body);
Result<PurchaseRequest> decode_purchase(const nlohmann::json& body);
Result<RefundRequest> decode_refund(const nlohmann::json& body);
Result<RedemptionRequest> decode_redemption(const nlohmann::json& body);
Result<HoldRequest> decode_hold(const nlohmann::json& body);
Result<std::optional<Points>> decode_capture(const nlohmann::json& body);  // body may be null
Result<AdjustRequest> decode_adjustment(const nlohmann::json& body);
Result<std::string> decode_reversal(const nlohmann::json& body);  // the reason

nlohmann::json encode(const Entry& entry);
nlohmann::json encode(const BalanceView& balance);
// Byte for byte encode(balance).dump(), written without building a JSON tree: the balance read
// is the app's hot path and the tree was ~10% of its CPU.
std::string render_balance(const BalanceView& balance);
// The purchase response written directly (the writer renders it inside the batch transaction,
// because the idempotency record stores it): the same bytes as encode(result).dump().
std::string render_purchase(const PurchaseResult& result);
nlohmann::json encode(const MemberProfile& member);
nlohmann::json encode(const HoldView& hold);
nlohmann::json encode(const PurchaseResult& result);
nlohmann::json encode(const RefundResult& result);
nlohmann::json encode(const Quote& quote);
nlohmann::json encode(const EntriesPage& page);
nlohmann::json encode(const TierChange& change);
nlohmann::json encode_entries(const std::vector<Entry>& entries);
nlohmann::json encode_tier_history(const std::string& member_id, const std::string& tier,
                                   const std::vector<TierChange>& changes);
// Redemption: {entry, balance}; capture: {hold, entry, balance}; release: {hold, balance};
// adjustment / reversal: {entries, balance}.
nlohmann::json encode_redemption(const PostingResult& result);
nlohmann::json encode_capture(const PostingResult& result);
nlohmann::json encode_release(const PostingResult& result);
nlohmann::json encode_posting(const PostingResult& result);

}  // namespace encore::api
