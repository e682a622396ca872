// Internal to ledger/: Writer::isolated and input checks shared by the writer_*.cpp files.
#pragma once

#include "ledger/ledger.h"
#include "ledger/posting.h"

namespace encore {

// Runs one operation inside a savepoint: a refused (error) or throwing operation is rolled back
// completely, chain head included, while the batch around it goes on.
template <class T, class F>
Result<T> Writer::isolated(F&& body) {
  const auto saved_id = last_id_;
  const auto saved_hash = last_hash_;
  store_.savepoint();
  try {
    Posting posting(store_, program_, clock_.now(), clock_.recorded_now(), last_id_, last_hash_,
                    batch_);
    Result<T> result = body(posting);
    if (result.ok()) {
      posting.flush();
      store_.release_savepoint();
      stage_released(posting);
    } else {
      store_.rollback_to_savepoint();
      last_id_ = saved_id;
      last_hash_ = saved_hash;
    }
    return result;
  } catch (...) {
    store_.rollback_to_savepoint();
    last_id_ = saved_id;
    last_hash_ = saved_hash;
    throw;
  }
}

inline std::optional<Error> check_member_id(const std::string& id, const std::string& field) {
  if (valid_member_id(id)) return std::nullopt;
  return make_error(ErrorCode::invalid_request, field,
                    "must be 1-64 characters of [A-Za-z0-9._:-]");
}

inline std::optional<Error> check_order_id(const std::string& id, const std::string& field) {
  if (valid_order_id(id)) return std::nullopt;
  return make_error(ErrorCode::invalid_request, field,
                    "must be 1-64 characters of [A-Za-z0-9._:-]");
}

inline std::optional<Error> check_points(Points points, const std::string& field) {
  if (points >= 1 && points <= max_points_per_request) return std::nullopt;
  return make_error(ErrorCode::invalid_request, field, "must be an integer from 1 to 2^53-1");
}

inline std::optional<Error> check_reason(const std::string& reason) {
  if (!reason.empty() && reason.size() <= max_reason_length) return std::nullopt;
  return make_error(ErrorCode::invalid_request, "reason", "is required (1-500 characters)");
}

inline std::optional<Error> check_text(const std::optional<std::string>& text,
                                       const std::string& field, std::size_t max_length) {
  if (!text || (!text->empty() && text->size() <= max_length)) return std::nullopt;
  return make_error(ErrorCode::invalid_request, field,
                    "must be 1-" + std::to_string(max_length) + " characters");
}

Error insufficient(Points available_points, Points wanted);

// The open lots with these ids, in the order given (a purchase's own lots come first), each once.
std::vector<LotRow*> own_lots(MemberState& state,
                              const std::vector<std::optional<std::int64_t>>& lot_ids);
// The id of the open lot that entry `entry_id` created, if it still has points.
std::optional<std::int64_t> lot_of_entry(const MemberState& state, std::int64_t entry_id);
// Posts `entry` taking back `due` points (refund or reversal); returns the points taken.
Points take_back(Posting& p, MemberState& state, Points due, const std::vector<LotRow*>& own,
                 Entry entry);

}  // namespace encore
