#include <catch2/catch.hpp>

#include "ledger/time_zone.h"

using namespace encore;
using namespace std::chrono_literals;

TEST_CASE("RFC 3339 times parse to UTC and format back", "[time]") {
  auto t = parse_rfc3339("2026-11-22T09:30:00Z");
  REQUIRE(t);
  CHECK(format_rfc3339(*t) == "2026-11-22T09:30:00Z");
  auto shifted = parse_rfc3339("2026-11-22T17:30:00.123+08:00");
  REQUIRE(shifted);
  CHECK(*shifted == *t);
  CHECK_FALSE(parse_rfc3339("2026-11-22 09:30:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-02-30T09:30:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-22T09:30:00"));
  CHECK_FALSE(parse_rfc3339("2026-11-22T25:30:00Z"));
  CHECK_FALSE(parse_rfc3339(""));
  // Offsets that move the instant outside 1970..9999 in UTC cannot be written back: refused.
  CHECK_FALSE(parse_rfc3339("9999-12-31T23:59:60-08:00"));
  CHECK_FALSE(parse_rfc3339("1970-01-01T00:30:00+01:00"));
  auto last = parse_rfc3339("9999-12-31T23:59:59Z");
  REQUIRE(last);
  CHECK(parse_rfc3339(format_rfc3339(*last)) == last);
}

TEST_CASE("end of a local day is the next local midnight in the program zone", "[time]") {
  const auto* shanghai = find_zone("Asia/Shanghai");
  REQUIRE(shanghai != nullptr);
  auto d = *parse_date("2026-11-22");
  // Midnight in Shanghai (UTC+8) is 16:00Z the previous day.
  CHECK(format_rfc3339(end_of_local_day(d, shanghai)) == "2026-11-22T16:00:00Z");
  // 2026-11-22T17:00Z is already 23 November in Shanghai.
  CHECK(format_date(local_date(*parse_rfc3339("2026-11-22T17:00:00Z"), shanghai)) == "2026-11-23");
  CHECK(find_zone("Mars/Olympus") == nullptr);
}

TEST_CASE("a DST gap at midnight starts the day when the gap ends", "[time]") {
  // America/Santiago skipped local midnight on 2026-09-06 (clocks jumped 00:00 -> 01:00).
  const auto* santiago = find_zone("America/Santiago");
  REQUIRE(santiago != nullptr);
  auto start = start_of_local_day(*parse_date("2026-09-06"), santiago);
  CHECK(format_date(local_date(start, santiago)) == "2026-09-06");
  CHECK(format_date(local_date(start - 1s, santiago)) == "2026-09-05");
}

TEST_CASE("append_date writes the same text as format_date, zero-padded", "[time]") {
  using date::day;
  using date::month;
  using date::year;
  for (const Date d : {Date{year{2026}, month{1}, day{31}}, Date{year{2027}, month{12}, day{1}},
                       Date{year{999}, month{3}, day{9}}, Date{year{1}, month{1}, day{1}},
                       Date{year{9999}, month{12}, day{31}}, Date{year{12345}, month{6}, day{15}},
                       Date{year{-44}, month{3}, day{15}}}) {
    std::string out = "x";
    append_date(out, d);
    CHECK(out == "x" + format_date(d));
  }
  std::string out;
  append_date(out, Date{year{999}, month{3}, day{9}});
  CHECK(out == "0999-03-09");
}
