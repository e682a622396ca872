// Wire time (RFC 3339 UTC) and calendar dates evaluated in the program's IANA time zone.
// GCC 12 has no std::chrono tzdb, so zones come from Howard Hinnant's date/tz (Debian's
// libhowardhinnant-date-dev), reading the OS tzdata.
#pragma once

#include <date/date.h>
#include <date/tz.h>

#include <optional>
#include <string>
#include <string_view>

#include "ledger/clock.h"

namespace encore {

using Date = date::year_month_day;

// Parses `2026-11-22T09:30:00Z` or with an offset (`+08:00`); fractional seconds are dropped.
std::optional<TimePoint> parse_rfc3339(std::string_view text);
std::string format_rfc3339(TimePoint t);  // always `YYYY-MM-DDTHH:MM:SSZ`

std::optional<Date> parse_date(std::string_view text);  // `YYYY-MM-DD`
std::string format_date(Date d);
// Appends format_date(d) to `out` without a temporary (the balance read's hot path).
void append_date(std::string& out, Date d);

// nullptr when the name is not an IANA zone known to the OS tzdata.
const date::time_zone* find_zone(std::string_view name);

// The calendar date of instant t in zone tz.
Date local_date(TimePoint t, const date::time_zone* tz);
// The first instant of local date d in zone tz (DST gaps resolve to the earliest valid instant).
TimePoint start_of_local_day(Date d, const date::time_zone* tz);
// The first instant after the end of local date d ("expires at the end of that day").
TimePoint end_of_local_day(Date d, const date::time_zone* tz);
Date add_days(Date d, int days);

}  // namespace encore
