// encore-admin: the operator CLI (SPEC 6, docs/operations.md). This file sets up the global
// options and exit codes; each command group lives in its own cmd_*.cpp.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "tools/commands.h"

namespace encore::admin {

std::string examples(std::initializer_list<const char*> lines) {
  std::string out = lines.size() == 1 ? "Example:" : "Examples:";
  for (const char* line : lines) out += std::string("\n  ") + line;
  return out +
         "\n\nGlobal options (before or after the command): --db PATH (env ENCORE_DB, default "
         "encore.db), --json, --server URL (env ENCORE_SERVER), --insecure, --ca-cert PEM.\n";
}

namespace {

// CLI11 reports "A subcommand is required" for `encore-admin frobnicate`; name the word instead.
bool report_unknown_command(const CLI::App& app) {
  const CLI::App* level = &app;
  for (;;) {
    auto parsed = level->get_subcommands();
    if (parsed.empty()) break;
    level = parsed.front();
  }
  if (level->get_subcommands([](const CLI::App*) { return true; }).empty())
    return false;                   // a leaf command: not about a command
  auto left = app.remaining(true);  // a word below `keys` falls through to the app
  if (left.empty() || left.front().rfind("-", 0) == 0) return false;
  std::string names;
  for (const auto* sub : level->get_subcommands([](const CLI::App*) { return true; })) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  std::cerr << "encore-admin: error: unknown command '" << left.front() << "'; the commands are "
            << names << "\nRun with --help for more information.\n";
  return true;
}

int run(int argc, char** argv) {
  CLI::App app{
      "encore-admin: operate an Encore loyalty-points ledger.\n"
      "Offline commands (init, migrate, keys, verify, backup, export, import) open the database\n"
      "file given by --db; members, adjust, reverse, expire and tiers go through a running\n"
      "encore-server (--server, ENCORE_ADMIN_KEY); see docs/operations.md."};
  app.name("encore-admin");
  Globals globals;
  // Global options: defined on the app; subcommands fall through to it, so the options are
  // accepted before or after the subcommand.
  app.option_defaults()->always_capture_default();
  app.add_option("--db", globals.db, "Database file")->envname("ENCORE_DB")->type_name("PATH");
  app.add_option("--server", globals.server, "URL of a running encore-server")
      ->envname("ENCORE_SERVER")
      ->type_name("URL");
  app.add_flag("--insecure", globals.insecure,
               "Accept the server's self-signed development certificate");
  app.add_option("--ca-cert", globals.ca_cert, "CA certificate to trust for --server")
      ->type_name("PEM")
      ->check(CLI::ExistingFile);
  app.add_flag("--json", globals.json, "Machine-readable output on stdout");
  app.fallthrough();
  app.require_subcommand(1);
  app.footer(examples({"encore-admin --db /var/lib/encore/encore.db init",
                       "ENCORE_DB=/var/lib/encore/encore.db encore-admin keys list --json",
                       "encore-admin <command> --help"}));

  Action action;
  add_db_commands(app, globals, action);
  add_keys_commands(app, globals, action);
  add_export_command(app, globals, action);
  add_server_commands(app, globals, action);
  add_import_command(app, globals, action);
  add_reminders_commands(app, globals, action);
  add_report_commands(app, globals, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (report_unknown_command(app)) return exit_usage;
    int code = app.exit(e);  // prints help or the error (with a --help hint)
    return code == 0 ? exit_ok : exit_usage;
  }
  if (!action) {
    std::cerr << "encore-admin: error: no command given\nRun with --help for more information.\n";
    return exit_usage;
  }
  try {
    return action();
  } catch (const UsageError& e) {
    std::cerr << "encore-admin: error: " << e.what() << "\nRun with --help for more information.\n";
    return exit_usage;
  } catch (const Failure& e) {
    std::cerr << "encore-admin: error: " << e.what() << '\n';
    return exit_failure;
  } catch (const std::exception& e) {  // I/O and SQLite errors: name the file involved
    std::cerr << "encore-admin: error: " << e.what() << " (database " << globals.db
              << "; check --db or ENCORE_DB)\n";
    return exit_failure;
  }
}

}  // namespace
}  // namespace encore::admin

int main(int argc, char** argv) {
  try {
    return encore::admin::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "encore-admin: error: " << e.what() << '\n';
    return encore::admin::exit_failure;
  }
}
