#include "ledger/time_zone.h"

#include <charconv>
#include <cstdio>
#include <stdexcept>

namespace encore {
namespace {

bool read_int(std::string_view text, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > text.size()) return false;
  for (std::size_t i = pos; i < pos + len; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  auto r = std::from_chars(text.data() + pos, text.data() + pos + len, out);
  return r.ec == std::errc{};
}

std::optional<Date> parse_date_prefix(std::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (!read_int(text, 0, 4, y) || !read_int(text, 5, 2, m) || !read_int(text, 8, 2, d)) {
    return std::nullopt;
  }
  Date date{date::year{y}, date::month{static_cast<unsigned>(m)},
            date::day{static_cast<unsigned>(d)}};
  if (!date.ok() || y < 1970 || y > 9999) return std::nullopt;
  return date;
}

}  // namespace

std::optional<Date> parse_date(std::string_view text) {
  if (text.size() != 10) return std::nullopt;
  return parse_date_prefix(text);
}

void append_date(std::string& out, Date d) {
  const int year = int(d.year());
  if (year < 0 || year > 9999) {
    out += format_date(d);
    return;
  }
  const unsigned month = unsigned(d.month());
  const unsigned day = unsigned(d.day());
  const char text[10] = {char('0' + year / 1000),
                         char('0' + year / 100 % 10),
                         char('0' + year / 10 % 10),
                         char('0' + year % 10),
                         '-',
                         char('0' + month / 10),
                         char('0' + month % 10),
                         '-',
                         char('0' + day / 10),
                         char('0' + day % 10)};
  out.append(text, sizeof text);
}

std::string format_date(Date d) {
  char out[16];
  const int n = std::snprintf(out, sizeof out, "%04d-%02u-%02u", int(d.year()), unsigned(d.month()),
                              unsigned(d.day()));
  return std::string(out, static_cast<std::size_t>(n));
}

std::optional<TimePoint> parse_rfc3339(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  constexpr std::size_t max_length = 40;
  if (text.size() < 20 || text.size() > max_length) return std::nullopt;
  auto day = parse_date_prefix(text);
  if (!day) return std::nullopt;
  if (text[10] != 'T' && text[10] != 't') return std::nullopt;
  int hh = 0, mm = 0, ss = 0;
  if (!read_int(text, 11, 2, hh) || text[13] != ':' || !read_int(text, 14, 2, mm) ||
      text[16] != ':' || !read_int(text, 17, 2, ss)) {
    return std::nullopt;
  }
  if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  std::size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      ++pos;
      ++digits;
    }
    if (digits == 0) return std::nullopt;
  }
  if (pos >= text.size()) return std::nullopt;
  int offset_minutes = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    int oh = 0, om = 0;
    if (!read_int(text, pos + 1, 2, oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !read_int(text, pos + 4, 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size()) return std::nullopt;
  if (ss == 60) ss = 59;  // leap second: clamp, the wire has second resolution
  auto local = date::sys_days{*day} + std::chrono::hours{hh} + std::chrono::minutes{mm} +
               std::chrono::seconds{ss};
  TimePoint utc{local - std::chrono::minutes{offset_minutes}};
  // An offset can push a valid local time out of the range the wire format can write back
  // (9999-12-31T23:59:59-08:00 is year 10000 in UTC): refuse it, found by the fuzzer.
  static const TimePoint earliest{date::sys_days{date::year{1970} / 1 / 1}};
  static const TimePoint latest{date::sys_days{date::year{9999} / 12 / 31} +
                                std::chrono::seconds{86'399}};
  if (utc < earliest || utc > latest) return std::nullopt;
  return utc;
}

std::string format_rfc3339(TimePoint t) {
  // By hand: date::format builds an ostream per call, and responses carry several timestamps.
  const auto day = date::floor<date::days>(t);
  const date::year_month_day ymd{day};
  const date::hh_mm_ss<std::chrono::seconds> hms{t - day};
  char out[32];
  const int n = std::snprintf(
      out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02dZ", int(ymd.year()), unsigned(ymd.month()),
      unsigned(ymd.day()), static_cast<int>(hms.hours().count()),
      static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return std::string(out, static_cast<std::size_t>(n));
}

const date::time_zone* find_zone(std::string_view name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

Date local_date(TimePoint t, const date::time_zone* tz) {
  auto local = tz->to_local(t);
  return Date{date::floor<date::days>(local)};
}

TimePoint start_of_local_day(Date d, const date::time_zone* tz) {
  auto local_midnight = date::local_days{d};
  auto info = tz->get_info(local_midnight);
  switch (info.result) {
    case date::local_info::unique:
    case date::local_info::ambiguous:
      return std::chrono::time_point_cast<std::chrono::seconds>(
          tz->to_sys(local_midnight, date::choose::earliest));
    case date::local_info::nonexistent:
      // Midnight skipped by a DST jump: the day starts when the gap ends.
      return std::chrono::time_point_cast<std::chrono::seconds>(info.first.end);
  }
  throw std::logic_error("unreachable local_info");
}

TimePoint end_of_local_day(Date d, const date::time_zone* tz) {
  return start_of_local_day(add_days(d, 1), tz);
}

Date add_days(Date d, int days) {
  return Date{date::sys_days{d} + date::days{days}};
}

}  // namespace encore
