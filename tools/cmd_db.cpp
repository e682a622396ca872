// `init`, `migrate`, `verify`, `backup`: whole-database commands that open the file.
#include <filesystem>
#include <iostream>

#include "ledger/api_keys.h"
#include "ledger/clock.h"
#include "ledger/verify.h"
#include "tools/commands.h"
#include "tools/db_access.h"
#include "tools/output.h"
#include "tools/progress.h"
#include "tools/server_lock.h"

namespace encore::admin {

namespace fs = std::filesystem;

namespace {

int init(const Globals& g, const std::string& name) {
  std::error_code ec;
  bool existed = fs::exists(g.db, ec) && fs::file_size(g.db, ec) > 0;
  int before = existed ? sqlite_schema_version(g.db) : 0;
  if (before > latest_schema_version()) {
    throw Failure("database " + g.db + " has schema v" + std::to_string(before) +
                  ", newer than this encore-admin knows; use a matching encore-admin");
  }
  std::unique_ptr<Store> store;
  if (before < latest_schema_version()) {
    // Creating or migrating: not beside a running server (it migrates on start itself).
    OfflineLock lock(g.db);
    store = open_sqlite_store(g.db, OpenMode::read_write);
  } else {
    store = open_sqlite_store(g.db, OpenMode::read_write);
  }
  store->never_checkpoint();  // may run beside a server, which checkpoints (wal_reset_guard.h)
  WriteTransaction tx(*store);
  if (store->api_key(name)) {
    throw Failure("a key named '" + name + "' already exists in " + g.db +
                  " (init has run before); pass --name NEW to add another admin key, or use "
                  "`encore-admin keys create --role admin --name NEW`");
  }
  auto created = create_api_key(*store, Role::admin, name, SystemClock{}.now());
  if (!created) throw Failure(created.error().detail);
  tx.commit();
  if (g.json) {
    print_json({{"key", created->key}, {"name", created->name}, {"role", "admin"}});
    return exit_ok;
  }
  std::cout << (existed ? "Using existing database " : "Created database ") << g.db << " (schema v"
            << latest_schema_version() << ").\n"
            << "Admin key '" << created->name
            << "' is shown only this once; store it now (e.g. in ENCORE_ADMIN_KEY):\n"
            << created->key << '\n';
  return exit_ok;
}

int migrate(const Globals& g) {
  require_database(g.db);
  OfflineLock lock(g.db);  // held until the migration is done
  int from = sqlite_schema_version(g.db);
  int latest = latest_schema_version();
  if (from > latest) {
    throw Failure("database " + g.db + " has schema v" + std::to_string(from) +
                  ", newer than this encore-admin knows (v" + std::to_string(latest) +
                  "); use a matching encore-admin");
  }
  if (from < latest) open_sqlite_store(g.db, OpenMode::read_write);  // applies the migrations
  int to = sqlite_schema_version(g.db);
  if (g.json) {
    print_json({{"from", from}, {"to", to}, {"migrated", from != to}});
  } else if (from == to) {
    std::cout << "Database " << g.db << " is already at schema v" << to << "; nothing to do.\n";
  } else {
    std::cout << "Migrated " << g.db << " from schema v" << from << " to v" << to << ".\n";
  }
  return exit_ok;
}

// Runs verify_ledger with a progress bar; the total is the newest entry id (ids increase).
VerifyReport verify_with_progress(const std::string& path, const std::string& label) {
  std::int64_t total = 0;
  {
    auto store = open_current(path, OpenMode::read_only);
    if (auto last = store->last_entry()) total = last->first;
  }
  Progress progress(label, total);
  auto report = verify_ledger(path, [&](std::int64_t done) { progress.update(done); });
  progress.finish();
  return report;
}

nlohmann::json report_json(const VerifyReport& r) {
  return {{"ok", r.ok},
          {"entries_checked", r.entries_checked},
          {"members_checked", r.members_checked},
          {"first_mismatch", r.ok ? nlohmann::json(nullptr) : nlohmann::json(r.first_mismatch)}};
}

void print_report(const VerifyReport& r, const std::string& path) {
  if (r.ok) {
    std::cout << "OK: " << path << ": " << r.entries_checked << " entries and " << r.members_checked
              << " members checked; the hash chain and every balance "
              << "match.\n";
  } else {
    std::cout << "MISMATCH: " << path << ": " << r.first_mismatch << " (after " << r.entries_checked
              << " entries, " << r.members_checked << " members)\n";
  }
}

int verify(const Globals& g) {
  auto report = verify_with_progress(g.db, "verifying");
  if (g.json) {
    print_json(report_json(report));
  } else {
    print_report(report, g.db);
  }
  if (!report.ok) {
    std::cerr << "encore-admin: error: the ledger does not verify; stop writes, keep this file "
                 "for investigation and restore the last backup that verifies\n";
    return exit_failure;
  }
  return exit_ok;
}

void remove_sidecars(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"-wal", "-shm", "-journal"}) fs::remove(path + suffix, ec);
}

int backup(const Globals& g, const std::string& file, bool force) {
  auto store = open_current(g.db, OpenMode::read_only);
  std::error_code ec;
  if (fs::exists(file, ec)) {
    if (!force) {
      throw Failure(file + " already exists; choose another FILE or pass --force to replace it");
    }
    if (fs::is_directory(file, ec)) throw Failure(file + " is a directory; FILE must be a file");
  }
  if (fs::equivalent(file, g.db, ec)) throw Failure("FILE must not be the database itself");
  auto parent = fs::path(file).parent_path();
  if (!parent.empty() && !fs::is_directory(parent, ec)) {
    throw Failure("directory " + parent.string() +
                  " does not exist; create it or choose another FILE");
  }
  // Copy to a temporary name next to FILE, verify it, then rename: an existing FILE is replaced
  // only by a copy that verifies.
  std::string tmp = file + ".partial";
  fs::remove(tmp, ec);
  remove_sidecars(tmp);
  try {
    {
      Progress progress("copying pages", 0);
      store->backup_to(tmp, [&](std::int64_t done, std::int64_t total) {
        progress.set_total(total);
        progress.update(done);
      });
    }
    store.reset();
    auto report = verify_with_progress(tmp, "verifying backup");
    remove_sidecars(tmp);
    if (!report.ok) {
      fs::remove(tmp, ec);
      if (g.json) print_json({{"file", file}, {"written", false}, {"verify", report_json(report)}});
      throw Failure("the backup copy does not verify (" + report.first_mismatch +
                    "); nothing was written; run `encore-admin verify` on " + g.db);
    }
    remove_sidecars(file);  // a stale WAL next to FILE must never be applied to the new copy
    fs::rename(tmp, file);
    if (g.json) {
      print_json({{"file", file}, {"written", true}, {"verify", report_json(report)}});
    } else {
      std::cout << "Backed up " << g.db << " to " << file << ".\n";
      print_report(report, file);
    }
    return exit_ok;
  } catch (...) {
    fs::remove(tmp, ec);
    remove_sidecars(tmp);
    throw;
  }
}

}  // namespace

void add_db_commands(CLI::App& app, const Globals& g, Action& action) {
  auto name = std::make_shared<std::string>("admin");
  auto* i = app.add_subcommand("init",
                               "Create (or migrate) the database and print a first "
                               "admin key");
  i->add_option("--name", *name, "Name of the admin key")
      ->capture_default_str()
      ->check(key_name_validator());
  i->footer(examples({"encore-admin --db /var/lib/encore/encore.db init",
                      "encore-admin --db encore.db init --json"}));
  i->callback([&g, &action, name] { action = [&g, name] { return init(g, *name); }; });

  auto* m = app.add_subcommand("migrate",
                               "Apply pending schema migrations (refused while a "
                               "server runs)");
  m->footer(examples({"encore-admin --db /var/lib/encore/encore.db migrate"}));
  m->callback([&g, &action] { action = [&g] { return migrate(g); }; });

  auto* v = app.add_subcommand("verify",
                               "Recompute the hash chain and every balance; exit 1 on "
                               "the first mismatch");
  v->footer(examples(
      {"encore-admin --db /var/lib/encore/encore.db verify", "encore-admin verify --json"}));
  v->callback([&g, &action] { action = [&g] { return verify(g); }; });

  auto file = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  auto* b = app.add_subcommand("backup",
                               "Write a consistent copy of the database (safe while a "
                               "server runs) and verify it");
  b->add_option("FILE", *file, "Where to write the copy")->required();
  b->add_flag("--force", *force, "Replace FILE when it exists");
  b->footer(
      examples({"encore-admin --db /var/lib/encore/encore.db backup "
                "/backups/encore-2026-11-23.db"}));
  b->callback([&g, &action, file, force] {
    action = [&g, file, force] { return backup(g, *file, *force); };
  });
}

}  // namespace encore::admin
