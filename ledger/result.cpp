#include "ledger/result.h"

namespace encore {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_request:
      return "invalid_request";
    case ErrorCode::unauthorized:
      return "unauthorized";
    case ErrorCode::forbidden:
      return "forbidden";
    case ErrorCode::not_found:
      return "not_found";
    case ErrorCode::member_exists:
      return "member_exists";
    case ErrorCode::request_in_progress:
      return "request_in_progress";
    case ErrorCode::payload_too_large:
      return "payload_too_large";
    case ErrorCode::unsupported_media_type:
      return "unsupported_media_type";
    case ErrorCode::idempotency_key_reused:
      return "idempotency_key_reused";
    case ErrorCode::insufficient_points:
      return "insufficient_points";
    case ErrorCode::refund_exceeds_purchase:
      return "refund_exceeds_purchase";
    case ErrorCode::currency_mismatch:
      return "currency_mismatch";
    case ErrorCode::order_already_posted:
      return "order_already_posted";
    case ErrorCode::hold_not_open:
      return "hold_not_open";
    case ErrorCode::already_reversed:
      return "already_reversed";
    case ErrorCode::not_reversible:
      return "not_reversible";
    case ErrorCode::overloaded:
      return "overloaded";
    case ErrorCode::internal:
      return "internal";
  }
  return "internal";
}

}  // namespace encore
