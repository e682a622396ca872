// `import FILE`: a legacy program's members and opening balances into a STOPPED database
// (docs/import-format.md). Every row is checked first; only a file without errors is written, in
// one transaction through the ledger's Writer, so the hash chain and balances verify afterwards.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "ledger/ledger.h"
#include "ledger/program.h"
#include "ledger/time_zone.h"
#include "ledger/types.h"
#include "tools/commands.h"
#include "tools/db_access.h"
#include "tools/output.h"
#include "tools/progress.h"
#include "tools/server_lock.h"

namespace encore::admin {

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr std::size_t max_errors_shown = 100;
constexpr const char* reason_prefix = "import: ";

const std::vector<std::string> csv_columns{
    "type",   "member_id", "email",      "phone", "locale", "marketing_opt_in",
    "points", "earned_at", "expires_at", "reason"};

struct ImportRow {
  bool is_member = true;
  std::size_t row = 0;
  std::string member_id;
  std::optional<std::string> email, phone, locale;
  bool opt_in = false;
  std::optional<TimePoint> enrolled_at;
  Points points = 0;
  TimePoint earned_at{};
  std::optional<TimePoint> expires_at;
  std::string reason;
};

struct RowError {
  std::size_t row;
  std::string field;
  std::string reason;
};

class Errors {
 public:
  void add(std::size_t row, std::string field, std::string reason) {
    ++total_;
    if (shown_.size() < max_errors_shown)
      shown_.push_back({row, std::move(field), std::move(reason)});
  }
  std::size_t total() const { return total_; }
  std::vector<RowError> sorted() const {
    auto out = shown_;
    std::stable_sort(out.begin(), out.end(),
                     [](const RowError& a, const RowError& b) { return a.row < b.row; });
    return out;
  }

 private:
  std::vector<RowError> shown_;
  std::size_t total_ = 0;
};

// Field checks on one row, given as a JSON object (CSV rows are converted first).
class RowChecker {
 public:
  RowChecker(Errors& errors, TimePoint now) : errors_(errors), now_(now) {}

  std::optional<ImportRow> check(const json& obj, std::size_t row) {
    row_ = row;
    ok_ = true;
    if (!obj.is_object()) {
      fail("", "must be a JSON object");
      return std::nullopt;
    }
    ImportRow out;
    out.row = row;
    auto type = obj.find("type");
    if (type == obj.end() || !type->is_string() || (*type != "member" && *type != "balance")) {
      fail("type", "must be \"member\" or \"balance\"");
      return std::nullopt;
    }
    out.is_member = *type == "member";
    static const std::unordered_set<std::string> member_fields{
        "type", "member_id", "email", "phone", "locale", "marketing_opt_in", "enrolled_at"};
    static const std::unordered_set<std::string> balance_fields{
        "type", "member_id", "points", "earned_at", "expires_at", "reason"};
    const auto& allowed = out.is_member ? member_fields : balance_fields;
    for (const auto& [key, value] : obj.items()) {
      if (!allowed.count(key) && !value.is_null()) {
        fail(key,
             std::string("is not a field of a ") + (out.is_member ? "member" : "balance") + " row");
      }
    }
    auto id = text(obj, "member_id");
    if (!id) {
      fail("member_id", "is required");
    } else if (!valid_member_id(*id)) {
      fail("member_id", "must be 1-64 characters of [A-Za-z0-9._:-] (got \"" + clip(*id) + "\")");
    } else {
      out.member_id = *id;
    }
    if (out.is_member) {
      out.email = text(obj, "email");
      out.phone = text(obj, "phone");
      out.locale = text(obj, "locale");
      check_contact(out);
      if (auto v = obj.find("marketing_opt_in"); v != obj.end() && !v->is_null()) {
        if (v->is_boolean()) {
          out.opt_in = v->get<bool>();
        } else {
          fail("marketing_opt_in", "must be true or false");
        }
      }
      out.enrolled_at = time(obj, "enrolled_at", false);
      if (out.enrolled_at && *out.enrolled_at > now_) fail("enrolled_at", "is in the future");
    } else {
      auto p = obj.find("points");
      if (p == obj.end() || p->is_null()) {
        fail("points", "is required");
      } else if (!p->is_number_integer()) {
        fail("points", "must be a positive integer (got " + clip(p->dump()) + ")");
      } else if (p->is_number_unsigned()
                     ? p->get<std::uint64_t>() > static_cast<std::uint64_t>(max_points_per_request)
                     : p->get<std::int64_t>() < 1) {
        fail("points", "must be a positive integer up to 2^53-1 (got " + clip(p->dump()) + ")");
      } else {
        out.points = p->get<Points>();
      }
      auto earned = time(obj, "earned_at", true);
      if (earned) {
        out.earned_at = *earned;
        if (*earned > now_) fail("earned_at", "is in the future");
      }
      out.expires_at = time(obj, "expires_at", false);
      if (earned && out.expires_at && *out.expires_at <= *earned) {
        fail("expires_at", "must be after earned_at");
      }
      auto reason = text(obj, "reason");
      out.reason = std::string(reason_prefix) + (reason ? *reason : "opening balance");
      if (reason && reason->empty()) fail("reason", "must not be empty (omit it instead)");
      if (out.reason.size() > max_reason_length) {
        fail("reason", "must be at most " +
                           std::to_string(max_reason_length - std::string(reason_prefix).size()) +
                           " characters");
      }
    }
    if (!ok_) return std::nullopt;
    return out;
  }

 private:
  void fail(const std::string& field, const std::string& reason) {
    ok_ = false;
    errors_.add(row_, field, reason);
  }

  static std::string clip(const std::string& s) {
    return s.size() > 40 ? s.substr(0, 40) + "..." : s;
  }

  std::optional<std::string> text(const json& obj, const char* field) {
    auto v = obj.find(field);
    if (v == obj.end() || v->is_null()) return std::nullopt;
    if (!v->is_string()) {
      fail(field, "must be a string");
      return std::nullopt;
    }
    return v->get<std::string>();
  }

  std::optional<TimePoint> time(const json& obj, const char* field, bool required) {
    auto v = obj.find(field);
    if (v == obj.end() || v->is_null()) {
      if (required) fail(field, "is required (an RFC 3339 time, e.g. 2025-03-01T00:00:00Z)");
      return std::nullopt;
    }
    std::optional<TimePoint> t;
    if (v->is_string()) t = parse_rfc3339(v->get<std::string>());
    if (!t)
      fail(field,
           "must be an RFC 3339 time such as 2025-03-01T00:00:00Z (got " + clip(v->dump()) + ")");
    return t;
  }

  // The same limits the Writer applies when enrolling.
  void check_contact(const ImportRow& r) {
    if (r.email && (r.email->empty() || r.email->size() > max_contact_length ||
                    r.email->find('@') == std::string::npos)) {
      fail("email", "must be an email address of at most 254 characters");
    }
    if (r.phone && (r.phone->empty() || r.phone->size() > 32)) {
      fail("phone", "must be 1-32 characters");
    }
    if (r.locale) {
      bool ok = !r.locale->empty() && r.locale->size() <= 35;
      for (char c : *r.locale) {
        ok = ok && ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_');
      }
      if (!ok) fail("locale", "must be a BCP 47 tag such as en or zh-CN");
    }
  }

  Errors& errors_;
  TimePoint now_;
  std::size_t row_ = 0;
  bool ok_ = true;
};

// Reads RFC 4180 records (quoted fields may hold commas, quotes and line breaks). Returns false at
// the end of the input; `line` is the line number where the record starts.
class CsvReader {
 public:
  explicit CsvReader(std::istream& in) : in_(in) {}

  bool next(std::vector<std::string>& fields, std::size_t& line, bool& malformed) {
    fields.clear();
    malformed = false;
    std::string raw;
    if (!std::getline(in_, raw)) return false;
    line = ++line_;
    std::string field;
    bool quoted = false;
    bool was_quoted = false;
    for (;;) {
      if (!raw.empty() && raw.back() == '\r' && !quoted) raw.pop_back();
      for (std::size_t i = 0; i < raw.size(); ++i) {
        char c = raw[i];
        if (quoted) {
          if (c == '"') {
            if (i + 1 < raw.size() && raw[i + 1] == '"') {
              field += '"';
              ++i;
            } else {
              quoted = false;
            }
          } else {
            field += c;
          }
        } else if (c == '"') {
          if (!field.empty() || was_quoted) malformed = true;
          quoted = true;
          was_quoted = true;
        } else if (c == ',') {
          fields.push_back(std::move(field));
          field.clear();
          was_quoted = false;
        } else {
          if (was_quoted) malformed = true;
          field += c;
        }
      }
      if (!quoted) break;
      // A quoted field continues on the next line.
      if (!std::getline(in_, raw)) {
        malformed = true;
        break;
      }
      ++line_;
      field += '\n';
    }
    fields.push_back(std::move(field));
    bytes_ = static_cast<std::int64_t>(in_.tellg());
    return true;
  }

  std::int64_t bytes() const { return bytes_; }

 private:
  std::istream& in_;
  std::size_t line_ = 0;
  std::int64_t bytes_ = 0;
};

// A CSV cell in JSON terms: empty is absent; points and marketing_opt_in are typed when they
// parse, and left as strings (rejected by RowChecker) when they do not.
json csv_cell(const std::string& column, const std::string& cell) {
  if (cell.empty()) return nullptr;
  if (column == "points") {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
    if (ec == std::errc{} && end == cell.data() + cell.size()) return v;
    return cell;
  }
  if (column == "marketing_opt_in") {
    if (cell == "true" || cell == "1") return true;
    if (cell == "false" || cell == "0") return false;
    return cell;
  }
  return cell;
}

struct Parsed {
  std::vector<ImportRow> members;
  std::vector<ImportRow> balances;
  std::size_t rows = 0;
};

Parsed read_file(const std::string& file, const std::string& format, Errors& errors,
                 TimePoint now) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Failure("cannot open " + file + "; check the path and its permissions");
  std::error_code ec;
  auto size = static_cast<std::int64_t>(fs::file_size(file, ec));
  Progress progress("checking", ec ? 0 : size);
  RowChecker checker(errors, now);
  Parsed out;
  auto take = [&](std::optional<ImportRow> row) {
    if (!row) return;
    (row->is_member ? out.members : out.balances).push_back(std::move(*row));
  };
  if (format == "csv") {
    CsvReader reader(in);
    std::vector<std::string> fields;
    std::size_t line = 0;
    bool malformed = false;
    if (!reader.next(fields, line, malformed)) throw Failure(file + " is empty; nothing to import");
    std::vector<std::string> header = fields;
    if (!header.empty() && header[0].rfind("\xEF\xBB\xBF", 0) == 0) header[0].erase(0, 3);
    auto expected = csv_columns;
    auto sorted = header;
    std::sort(sorted.begin(), sorted.end());
    std::sort(expected.begin(), expected.end());
    auto with_enrolled = csv_columns;  // an optional tenth column
    with_enrolled.push_back("enrolled_at");
    std::sort(with_enrolled.begin(), with_enrolled.end());
    if (malformed || (sorted != expected && sorted != with_enrolled)) {
      std::string cols;
      for (const auto& c : csv_columns) cols += (cols.empty() ? "" : ",") + c;
      throw Failure(file + ": row 1: the CSV header must name the columns " + cols +
                    " (any order, optionally also enrolled_at); see docs/import-format.md");
    }
    while (reader.next(fields, line, malformed)) {
      ++out.rows;
      if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
      if (malformed) {
        errors.add(line, "", "is not valid CSV (a stray or unclosed quote)");
        continue;
      }
      if (fields.size() != header.size()) {
        errors.add(line, "",
                   "has " + std::to_string(fields.size()) + " fields; the header has " +
                       std::to_string(header.size()));
        continue;
      }
      json obj = json::object();
      for (std::size_t i = 0; i < header.size(); ++i)
        obj[header[i]] = csv_cell(header[i], fields[i]);
      take(checker.check(obj, line));
      progress.update(reader.bytes());
    }
  } else {
    std::string line;
    std::size_t row = 0;
    std::int64_t bytes = 0;
    while (std::getline(in, line)) {
      ++row;
      bytes += static_cast<std::int64_t>(line.size()) + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank line
      ++out.rows;
      json obj = json::parse(line, nullptr, false);
      if (obj.is_discarded()) {
        errors.add(row, "", "is not well-formed JSON");
      } else {
        take(checker.check(obj, row));
      }
      if ((row & 1023) == 0) progress.update(bytes);
    }
  }
  progress.finish();
  return out;
}

// Cross-row checks: duplicate members, members already in the database, balances of members
// that exist nowhere.
void check_members(const Parsed& p, const std::unordered_set<std::string>& existing,
                   Errors& errors) {
  std::unordered_map<std::string, std::size_t> first_row;
  first_row.reserve(p.members.size());
  for (const auto& m : p.members) {
    auto [it, inserted] = first_row.emplace(m.member_id, m.row);
    if (!inserted) {
      errors.add(m.row, "member_id",
                 "duplicate member '" + m.member_id + "' (first at row " +
                     std::to_string(it->second) + ")");
    } else if (existing.count(m.member_id)) {
      errors.add(m.row, "member_id", "member '" + m.member_id + "' is already in the database");
    }
  }
  for (const auto& b : p.balances) {
    if (!first_row.count(b.member_id) && !existing.count(b.member_id)) {
      errors.add(
          b.row, "member_id",
          "unknown member '" + b.member_id + "': add a member row for it (or enrol it first)");
    }
  }
}

// The Writer takes "now" from a clock: each row is written at its own business time
// (enrolled_at, earned_at), so entries' occurred_at and lots carry the legacy program's dates.
// Entries are recorded at the time of the import (recorded_at is server time, SPEC 2).
class ImportClock final : public Clock {
 public:
  explicit ImportClock(TimePoint import_time) : t_(import_time), import_time_(import_time) {}
  TimePoint now() const override { return t_; }
  TimePoint recorded_now() const override { return import_time_; }
  void set(TimePoint t) { t_ = t; }

 private:
  TimePoint t_;
  const TimePoint import_time_;
};

std::string describe(const Error& e) {
  return (e.field.empty() ? "" : e.field + ": ") + e.detail;
}

int import_file(const Globals& g, const std::string& file, std::string format,
                const std::string& program_path) {
  if (format.empty()) {
    auto ext = fs::path(file).extension().string();
    format = (ext == ".csv" || ext == ".CSV") ? "csv" : "ndjson";
  }
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw Failure("no file " + file + "; check the path");
  auto program = Program::load(program_path);
  if (!program) {
    throw Failure("cannot load the program " + program_path + ": " + describe(program.error()) +
                  "; pass --program PATH (the program.json the server uses)");
  }
  require_database(g.db);
  OfflineLock lock(g.db);  // held until the import is committed
  const auto started = std::chrono::steady_clock::now();
  const TimePoint now = SystemClock{}.now();

  std::unordered_set<std::string> existing;
  {
    auto store = open_current(g.db, OpenMode::read_only);
    auto ids = store->all_member_ids();
    existing.insert(ids.begin(), ids.end());
  }

  Errors errors;
  Parsed parsed = read_file(file, format, errors, now);
  check_members(parsed, existing, errors);
  if (errors.total() > 0) {
    auto shown = errors.sorted();
    json list = json::array();
    for (const auto& e : shown) {
      std::cerr << "encore-admin: error: " << file << ": row " << e.row << ": "
                << (e.field.empty() ? "" : e.field + ": ") << e.reason << '\n';
      list.push_back({{"row", e.row},
                      {"field", e.field.empty() ? json(nullptr) : json(e.field)},
                      {"reason", e.reason}});
    }
    if (g.json) print_json({{"ok", false}, {"errors", list}, {"error_count", errors.total()}});
    std::string more = errors.total() > shown.size()
                           ? " (the first " + std::to_string(shown.size()) + " are listed)"
                           : "";
    throw Failure(file + " has " + std::to_string(errors.total()) + " error" +
                  (errors.total() == 1 ? "" : "s") + more +
                  "; nothing was imported. Fix the rows and run the import again");
  }

  // Chronological replay: balances in earned_at order (stable, so the file order breaks ties).
  std::stable_sort(
      parsed.balances.begin(), parsed.balances.end(),
      [](const ImportRow& a, const ImportRow& b) { return a.earned_at < b.earned_at; });
  ImportClock clock(now);
  auto ledger = Ledger::open(g.db, std::move(*program), clock);
  const auto total = static_cast<std::int64_t>(parsed.members.size() + parsed.balances.size());
  Progress progress("importing", total);
  Points points = 0;
  const Actor actor{"import"};
  ledger->write_batch([&](Writer& w) {
    std::int64_t done = 0;
    for (const auto& m : parsed.members) {
      clock.set(m.enrolled_at.value_or(now));
      auto r = w.enrol(EnrolRequest{m.member_id, m.email, m.phone, m.locale, m.opt_in}, actor);
      if (!r) {
        throw Failure(file + ": row " + std::to_string(m.row) + ": " + describe(r.error()) +
                      "; nothing was imported");
      }
      progress.update(++done);
    }
    for (const auto& b : parsed.balances) {
      clock.set(b.earned_at);
      AdjustRequest req;
      req.member_id = b.member_id;
      req.points = b.points;
      req.reason = b.reason;
      req.lot_expires_at = b.expires_at;
      auto r = w.adjust(req, actor);
      if (!r) {
        throw Failure(file + ": row " + std::to_string(b.row) + ": " + describe(r.error()) +
                      "; nothing was imported");
      }
      points += b.points;
      progress.update(++done);
    }
  });
  progress.finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (g.json) {
    print_json({{"file", file},
                {"format", format},
                {"rows", parsed.rows},
                {"members", parsed.members.size()},
                {"balances", parsed.balances.size()},
                {"points", points},
                {"seconds", seconds}});
  } else {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.1f", seconds);
    std::cout << "Imported " << parsed.members.size() << " members and " << parsed.balances.size()
              << " opening balance lots (" << points << " points) from " << file << " into " << g.db
              << " in " << secs << " s.\n";
  }
  return exit_ok;
}

}  // namespace

void add_import_command(CLI::App& app, const Globals& g, Action& action) {
  auto file = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>();
  auto program = std::make_shared<std::string>("examples/program.json");
  auto* i = app.add_subcommand(
      "import",
      "Import a legacy program's members and opening balances (offline; the server must be "
      "stopped)");
  i->add_option("FILE", *file, "NDJSON or CSV file (docs/import-format.md)")->required();
  i->add_option("--format", *format, "ndjson or csv (default: from the file name, .csv is csv)")
      ->check(CLI::IsMember({"ndjson", "csv"}));
  i->add_option("--program", *program, "The program the server uses")
      ->capture_default_str()
      ->type_name("PATH");
  i->footer(
      examples({"encore-admin --db /var/lib/encore/encore.db import legacy.ndjson "
                "--program /etc/encore/program.json",
                "encore-admin --db encore.db import legacy.csv --format csv --json"}));
  i->callback([&g, &action, file, format, program] {
    action = [&g, file, format, program] { return import_file(g, *file, *format, *program); };
  });
}

}  // namespace encore::admin
