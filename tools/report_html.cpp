#include "tools/report_html.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "tools/commands.h"

namespace encore::admin {
namespace {

// 128-bit intermediates (GCC extension; -Wpedantic needs the marker).
__extension__ using Int128 = __int128;

// A value divided by `scale` with two decimals when scaled (basis points -> "12.34").
std::string scaled(std::int64_t value, int scale) {
  if (scale == 1) return std::to_string(value);
  char text[48];
  const std::int64_t magnitude = value < 0 ? -value : value;
  std::snprintf(text, sizeof text, "%s%lld.%02lld", value < 0 ? "-" : "",
                static_cast<long long>(magnitude / scale),
                static_cast<long long>(magnitude % scale * 100 / scale));
  return text;
}

// Horizontal bars: one row per bar, widths proportional to the largest value (negative values
// draw no bar, their number is still printed).
std::string render_chart(const HtmlChart& chart) {
  constexpr int row_px = 22, label_px = 150, bar_px = 420, value_px = 170;
  std::int64_t top = 0;
  for (const auto& b : chart.bars) top = std::max(top, b.value);
  const int height = row_px * static_cast<int>(chart.bars.size()) + 8;
  std::string out = "<h2>" + html_escape(chart.title) + "</h2>\n";
  out += "<svg role=\"img\" width=\"" + std::to_string(label_px + bar_px + value_px) +
         "\" height=\"" + std::to_string(height) + "\" aria-label=\"" + html_escape(chart.title) +
         "\">\n";
  int y = 4;
  for (const auto& b : chart.bars) {
    const auto width =
        top > 0 && b.value > 0 ? static_cast<int>(static_cast<Int128>(b.value) * bar_px / top) : 0;
    out += "<text x=\"" + std::to_string(label_px - 6) + "\" y=\"" + std::to_string(y + 15) +
           "\" text-anchor=\"end\">" + html_escape(b.label) + "</text>";
    out += "<rect x=\"" + std::to_string(label_px) + "\" y=\"" + std::to_string(y + 2) +
           "\" width=\"" + std::to_string(width) + "\" height=\"" + std::to_string(row_px - 6) +
           "\" fill=\"#3b6ea8\"/>";
    out += "<text x=\"" + std::to_string(label_px + width + 6) + "\" y=\"" +
           std::to_string(y + 15) + "\">" + html_escape(scaled(b.value, chart.value_scale)) +
           (chart.unit.empty() ? "" : " " + html_escape(chart.unit)) + "</text>\n";
    y += row_px;
  }
  out += "</svg>\n";
  return out;
}

std::string render_table(const HtmlTable& table) {
  std::string out = "<h2>" + html_escape(table.title) + "</h2>\n<table>\n<tr>";
  for (const auto& h : table.headers) out += "<th>" + html_escape(h) + "</th>";
  out += "</tr>\n";
  for (const auto& row : table.rows) {
    out += "<tr>";
    for (const auto& cell : row) out += "<td>" + html_escape(cell) + "</td>";
    out += "</tr>\n";
  }
  out += "</table>\n";
  return out;
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_html(const HtmlPage& page) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
      html_escape(page.title) +
      "</title>\n<style>\n"
      "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
      "table{border-collapse:collapse;margin-bottom:1em}\n"
      "th,td{border:1px solid #ccc;padding:4px 10px;text-align:right}\n"
      "th:first-child,td:first-child{text-align:left}\n"
      "svg text{font-size:13px}\n"
      "</style>\n</head>\n<body>\n<h1>" +
      html_escape(page.title) + "</h1>\n<p>" + html_escape(page.subtitle) + "</p>\n";
  for (const auto& t : page.tables) out += render_table(t);
  for (const auto& c : page.charts) out += render_chart(c);
  out += "</body>\n</html>\n";
  return out;
}

void write_html(const std::string& path, const HtmlPage& page) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream file(tmp, std::ios::binary | std::ios::trunc);
    file << render_html(page);
    file.close();
    if (!file) throw Failure("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw Failure("cannot write " + path);
  }
}

}  // namespace encore::admin
