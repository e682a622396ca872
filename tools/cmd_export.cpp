// `export`: members and entries as NDJSON (one stream) or CSV (members.csv + entries.csv in a
// directory), read in one snapshot. Read-only, so safe while a server runs.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "ledger/store.h"
#include "ledger/time_zone.h"
#include "tools/commands.h"
#include "tools/db_access.h"
#include "tools/output.h"
#include "tools/progress.h"

namespace encore::admin {

namespace fs = std::filesystem;

namespace {

struct ExportOptions {
  std::string format = "ndjson";
  std::string out;
  bool force = false;
};

template <class T>
nlohmann::json opt(const std::optional<T>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json member_json(const MemberRow& m) {
  return {{"type", "member"},
          {"member_id", m.member_id},
          {"email", opt(m.email)},
          {"phone", opt(m.phone)},
          {"locale", opt(m.locale)},
          {"marketing_opt_in", m.marketing_opt_in},
          {"enrolled_at", json_time(m.enrolled_at)},
          {"erased_at", json_time(m.erased_at)},
          {"balance", m.balance},
          {"debt", m.debt},
          {"tier", m.tier},
          {"tier_reached_at", json_time(m.tier_reached_at)},
          {"first_purchase_at", json_time(m.first_purchase_at)},
          {"last_purchase_at", json_time(m.last_purchase_at)},
          {"purchase_count", m.purchase_count},
          {"last_activity_at", json_time(m.last_activity_at)}};
}

nlohmann::json entry_json(const Entry& e) {
  auto lots = nlohmann::json::array();
  for (const auto& d : e.lots) lots.push_back({{"lot_id", d.lot_id}, {"points", d.points}});
  return {{"type", "entry"},
          {"id", e.id},
          {"member_id", e.member_id},
          {"kind", std::string(to_string(e.kind))},
          {"points", e.points},
          {"occurred_at", json_time(e.occurred_at)},
          {"recorded_at", json_time(e.recorded_at)},
          {"order_id", opt(e.order_id)},
          {"refund_id", opt(e.refund_id)},
          {"hold_id", opt(e.hold_id)},
          {"promotion_id", opt(e.promotion_id)},
          {"reason", opt(e.reason)},
          {"reward", opt(e.reward)},
          {"ref_entry_id", opt(e.ref_entry_id)},
          {"actor", e.actor},
          {"lots", lots},
          {"hash", to_hex(e.hash)}};
}

// RFC 4180: quote a field holding a comma, quote or line break; double the quotes inside.
std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\r\n") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_text(const std::optional<std::string>& v) {
  return v ? csv_field(*v) : "";
}
std::string csv_time(const std::optional<TimePoint>& v) {
  return v ? format_rfc3339(*v) : "";
}

void write_csv_row(std::ostream& out, const std::vector<std::string>& cells) {
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i) out << ',';
    out << cells[i];
  }
  out << "\r\n";
}

const std::vector<std::string> member_columns = {"member_id",
                                                 "email",
                                                 "phone",
                                                 "locale",
                                                 "marketing_opt_in",
                                                 "enrolled_at",
                                                 "erased_at",
                                                 "balance",
                                                 "debt",
                                                 "tier",
                                                 "tier_reached_at",
                                                 "first_purchase_at",
                                                 "last_purchase_at",
                                                 "purchase_count",
                                                 "last_activity_at"};

const std::vector<std::string> entry_columns = {
    "id",           "member_id", "kind",    "points",       "occurred_at", "recorded_at",
    "order_id",     "refund_id", "hold_id", "promotion_id", "reason",      "reward",
    "ref_entry_id", "actor",     "lots",    "hash"};

std::vector<std::string> member_csv(const MemberRow& m) {
  return {csv_field(m.member_id),
          csv_text(m.email),
          csv_text(m.phone),
          csv_text(m.locale),
          m.marketing_opt_in ? "true" : "false",
          csv_time(m.enrolled_at),
          csv_time(m.erased_at),
          std::to_string(m.balance),
          std::to_string(m.debt),
          csv_field(m.tier),
          csv_time(m.tier_reached_at),
          csv_time(m.first_purchase_at),
          csv_time(m.last_purchase_at),
          std::to_string(m.purchase_count),
          csv_time(m.last_activity_at)};
}

std::vector<std::string> entry_csv(const Entry& e) {
  return {std::to_string(e.id),
          csv_field(e.member_id),
          std::string(to_string(e.kind)),
          std::to_string(e.points),
          csv_time(e.occurred_at),
          csv_time(e.recorded_at),
          csv_text(e.order_id),
          csv_text(e.refund_id),
          csv_text(e.hold_id),
          csv_text(e.promotion_id),
          csv_text(e.reason),
          csv_text(e.reward),
          e.ref_entry_id ? std::to_string(*e.ref_entry_id) : "",
          csv_field(e.actor),
          csv_field(encode_lots(e.lots)),
          to_hex(e.hash)};
}

// A file written under a temporary name and renamed into place by commit(), so a failed export
// never leaves a truncated file under the final name.
class OutputFile {
 public:
  OutputFile(std::string path, bool force) : path_(std::move(path)), tmp_(path_ + ".partial") {
    std::error_code ec;
    if (fs::exists(path_, ec) && !force) {
      throw Failure(path_ + " already exists; choose another --out or pass --force to replace it");
    }
    out_.open(tmp_, std::ios::binary | std::ios::trunc);
    if (!out_)
      throw Failure("cannot write " + tmp_ + "; check the directory exists and is writable");
  }
  ~OutputFile() {
    if (!committed_) {
      out_.close();
      std::error_code ec;
      fs::remove(tmp_, ec);
    }
  }
  std::ostream& stream() { return out_; }
  void commit() {
    out_.close();
    if (!out_) throw Failure("writing " + tmp_ + " failed (disk full?)");
    fs::rename(tmp_, path_);
    committed_ = true;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string tmp_;
  std::ofstream out_;
  bool committed_ = false;
};

struct Counts {
  std::int64_t members = 0;
  std::int64_t entries = 0;
};

// Members first, then entries in id order, all from one read snapshot.
void scan(Store& store, const std::function<void(const MemberRow&)>& on_member,
          const std::function<void(const Entry&)>& on_entry, Counts& counts) {
  std::int64_t total = 0;
  if (auto last = store.last_entry()) total = last->first;
  store.scan_members([&](const MemberRow& m) {
    on_member(m);
    ++counts.members;
    return true;
  });
  Progress progress("exporting", total);
  store.scan_entries([&](const Entry& e) {
    on_entry(e);
    if ((++counts.entries & 0xFF) == 0) progress.update(e.id);
    return true;
  });
  progress.finish();
}

int run_export(const Globals& g, const ExportOptions& o) {
  if (o.format == "csv" && o.out.empty()) {
    throw UsageError("--format csv writes two files (members.csv, entries.csv): pass --out DIR");
  }
  auto store = open_current(g.db, OpenMode::read_only);
  store->begin_read();
  Counts counts;
  std::vector<std::string> files;
  if (o.format == "ndjson") {
    std::optional<OutputFile> file;
    if (!o.out.empty()) file.emplace(o.out, o.force);
    std::ostream& out = file ? file->stream() : std::cout;
    scan(
        *store, [&](const MemberRow& m) { out << member_json(m).dump() << '\n'; },
        [&](const Entry& e) { out << entry_json(e).dump() << '\n'; }, counts);
    out.flush();
    if (!out) throw Failure("writing the export failed (disk full or closed pipe?)");
    if (file) {
      file->commit();
      files.push_back(file->path());
    }
  } else {
    std::error_code ec;
    fs::create_directories(o.out, ec);
    if (!fs::is_directory(o.out, ec)) {
      throw Failure("cannot create directory " + o.out + " for the CSV files");
    }
    OutputFile members((fs::path(o.out) / "members.csv").string(), o.force);
    OutputFile entries((fs::path(o.out) / "entries.csv").string(), o.force);
    write_csv_row(members.stream(), member_columns);
    write_csv_row(entries.stream(), entry_columns);
    scan(
        *store, [&](const MemberRow& m) { write_csv_row(members.stream(), member_csv(m)); },
        [&](const Entry& e) { write_csv_row(entries.stream(), entry_csv(e)); }, counts);
    members.commit();
    entries.commit();
    files = {members.path(), entries.path()};
  }
  store->end_read();
  if (!files.empty()) {
    if (g.json) {
      print_json({{"format", o.format},
                  {"files", files},
                  {"members", counts.members},
                  {"entries", counts.entries}});
    } else {
      std::cout << "Exported " << counts.members << " members and " << counts.entries
                << " entries to";
      for (const auto& f : files) std::cout << ' ' << f;
      std::cout << ".\n";
    }
  }
  return exit_ok;
}

}  // namespace

void add_export_command(CLI::App& app, const Globals& g, Action& action) {
  auto o = std::make_shared<ExportOptions>();
  auto* e = app.add_subcommand("export",
                               "Export members and entries (NDJSON or CSV), read in one "
                               "consistent snapshot; safe while a server runs");
  e->add_option("--format", o->format, "ndjson (one stream) or csv (members.csv + entries.csv)")
      ->capture_default_str()
      ->check(CLI::IsMember({"ndjson", "csv"}));
  e->add_option("--out", o->out, "NDJSON: output file (default stdout). CSV: output directory")
      ->type_name("FILE|DIR");
  e->add_flag("--force", o->force, "Replace existing output files");
  e->footer(examples({"encore-admin --db /var/lib/encore/encore.db export > encore.ndjson",
                      "encore-admin export --format csv --out /backups/export-2026-11-23"}));
  e->callback([&g, &action, o] { action = [&g, o] { return run_export(g, *o); }; });
}

}  // namespace encore::admin
