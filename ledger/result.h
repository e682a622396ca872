// Domain errors as values: one taxonomy, mapped to HTTP status in exactly one place (api/).
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace encore {

// The SPEC's stable machine codes (SPEC 5), plus `already_reversed` and `not_reversible`
// (docs/api.md).
enum class ErrorCode {
  invalid_request,
  unauthorized,
  forbidden,
  not_found,
  member_exists,
  request_in_progress,
  payload_too_large,
  unsupported_media_type,
  idempotency_key_reused,
  insufficient_points,
  refund_exceeds_purchase,
  currency_mismatch,
  order_already_posted,
  hold_not_open,
  already_reversed,
  not_reversible,
  overloaded,
  internal,
};

std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string field;   // JSON path of the offending input, empty when not about one field
  std::string detail;  // human sentence; never contains secrets or SQL
};

inline Error make_error(ErrorCode code, std::string field, std::string detail) {
  return Error{code, std::move(field), std::move(detail)};
}

// A small std::expected stand-in (C++20 has none): either a value or an Error.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok() && "Result::value on an error");
    return std::get<T>(state_);
  }
  const T& value() const& {
    assert(ok() && "Result::value on an error");
    return std::get<T>(state_);
  }
  T&& value() && {
    assert(ok() && "Result::value on an error");
    return std::get<T>(std::move(state_));
  }
  const Error& error() const {
    assert(!ok() && "Result::error on a value");
    return std::get<Error>(state_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Error> state_;
};

struct Unit {};

}  // namespace encore
