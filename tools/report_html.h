// `report ... --html FILE` (SPEC 8): one self-contained HTML page per report, with bar charts as
// inline SVG (no script, no external asset: it opens offline and can be mailed as is).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace encore::admin {

struct HtmlBar {
  std::string label;
  std::int64_t value = 0;
};

struct HtmlChart {
  std::string title;
  std::string unit;  // after each bar's value, e.g. "points" or "%"
  std::vector<HtmlBar> bars;
  int value_scale = 1;  // a bar's value is shown divided by this (100: basis points as %)
};

struct HtmlTable {
  std::string title;
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
};

struct HtmlPage {
  std::string title;
  std::string subtitle;
  std::vector<HtmlTable> tables;
  std::vector<HtmlChart> charts;
};

// Escapes &, <, >, " and ' for text and attribute values.
std::string html_escape(const std::string& text);
std::string render_html(const HtmlPage& page);
// Writes the page (through a temporary file renamed into place); Failure when it cannot.
void write_html(const std::string& path, const HtmlPage& page);

}  // namespace encore::admin
