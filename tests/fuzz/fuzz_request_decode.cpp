// libFuzzer target for request decoding and validation (built with -DENCORE_FUZZ=ON, clang).
//
// The first byte picks what the rest of the input goes through:
//   0        encore::parse_json_strict only
//   1..9     parse_json_strict, then one encore::api::decode_* (enrol, member_patch, purchase,
//            refund, redemption, hold, capture, adjustment, reversal)
//   10       encore::parse_rfc3339, and a formatted result must parse back to the same instant
// Any crash, sanitizer report or broken invariant (abort) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/codec.h"
#include "ledger/json_reader.h"
#include "ledger/time_zone.h"

namespace {

// Every decoder must either succeed or name an error; a result is only touched to make sure it is
// fully formed (the sanitizers check the memory behind it).
template <class T>
void touch(const encore::Result<T>& r) {
  if (!r) {
    volatile std::size_t n = r.error().field.size() + r.error().detail.size();
    (void)n;
  }
}

void decode(std::uint8_t which, const nlohmann::json& body) {
  using namespace encore::api;
  switch (which) {
    case 1:
      return touch(decode_enrol(body));
    case 2:
      return touch(decode_member_patch(body));
    case 3:
      return touch(decode_purchase(body));
    case 4:
      return touch(decode_refund(body));
    case 5:
      return touch(decode_redemption(body));
    case 6:
      return touch(decode_hold(body));
    case 7:
      return touch(decode_capture(body));
    case 8:
      return touch(decode_adjustment(body));
    default:
      return touch(decode_reversal(body));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t which = data[0] % 11;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  if (which == 10) {
    auto t = encore::parse_rfc3339(text);
    if (t) {
      auto again = encore::parse_rfc3339(encore::format_rfc3339(*t));
      if (!again || *again != *t) std::abort();
    }
    return 0;
  }
  auto json = encore::parse_json_strict(text);
  if (!json) return 0;
  if (which != 0) decode(which, *json);
  return 0;
}
