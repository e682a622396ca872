// Shared vocabulary of encore-admin's command groups: the global options, how a command reports
// failure, and the registration functions main.cpp calls.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <stdexcept>
#include <string>
#include "ledger/program.h"

namespace encore::admin {

// Exit codes (SPEC 6).
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

// Options accepted before or after any subcommand.
struct Globals {
  std::string db = "encore.db";
  std::string server;
  bool insecure = false;
  std::string ca_cert;
  bool json = false;
};

// A command that could not do its job: printed as `encore-admin: error: <what>`, exit 1. The
// message says what went wrong and what to do about it.
struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A command line that parsed but makes no sense (exit 2).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The command selected on the command line; set by a subcommand's parse callback and run by main
// after parsing succeeded. Returns the exit code.
using Action = std::function<int()>;

void add_db_commands(CLI::App& app, const Globals& globals, Action& action);
void add_keys_commands(CLI::App& app, const Globals& globals, Action& action);
void add_export_command(CLI::App& app, const Globals& globals, Action& action);
void add_server_commands(CLI::App& app, const Globals& globals, Action& action);
void add_import_command(CLI::App& app, const Globals& globals, Action& action);
void add_reminders_commands(CLI::App& app, const Globals& globals, Action& action);
void add_report_commands(CLI::App& app, const Globals& globals, Action& action);

// The `report` command group, created by the first command group that needs it.
CLI::App* report_group(CLI::App& app);

// Checks an API key name (1-64 characters of [A-Za-z0-9._:-]) at parse time.
CLI::Validator key_name_validator();

// Loads and validates a program file (--program / ENCORE_PROGRAM); Failure naming the bad field.
Program load_program_file(const std::string& path);

// "Example:\n  <line>\n..." for a subcommand's footer.
std::string examples(std::initializer_list<const char*> lines);

}  // namespace encore::admin
