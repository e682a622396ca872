// `keys create|list|revoke`: API keys (SPEC 5). Allowed while a server runs: each is one tiny
// SQLite transaction and the server picks up changes within 5 s.
#include <iostream>

#include "ledger/api_keys.h"
#include "ledger/clock.h"
#include "tools/commands.h"
#include "tools/db_access.h"
#include "tools/output.h"

namespace encore::admin {

namespace {

struct CreateOptions {
  std::string role;
  std::string name;
};

nlohmann::json created_json(const CreatedKey& k) {
  return {{"key", k.key}, {"name", k.name}, {"role", std::string(to_string(k.role))}};
}

int create_key(const Globals& g, const CreateOptions& o) {
  auto role = role_from(o.role);
  if (!role) throw UsageError("--role must be one of pos, app, admin");
  auto store = open_current(g.db, OpenMode::read_write);
  store->never_checkpoint();  // a running server checkpoints (ledger/wal_reset_guard.h)
  WriteTransaction tx(*store);
  auto created = create_api_key(*store, *role, o.name, SystemClock{}.now());
  if (!created) {
    if (created.error().code == ErrorCode::member_exists) {
      throw Failure("a key named '" + o.name +
                    "' already exists; choose another --name (`encore-admin keys list` shows the "
                    "names in use)");
    }
    throw Failure(created.error().field + " " + created.error().detail);
  }
  tx.commit();
  if (g.json) {
    print_json(created_json(*created));
  } else {
    std::cout << "Created " << o.role << " key '" << created->name
              << "'. It is shown only this once; store it now:\n"
              << created->key << '\n';
  }
  return exit_ok;
}

int list_keys(const Globals& g) {
  auto store = open_current(g.db, OpenMode::read_only);
  auto keys = store->api_keys();
  if (g.json) {
    auto out = nlohmann::json::array();
    for (const auto& k : keys) {  // never the hash: it would allow offline guessing
      out.push_back({{"name", k.name},
                     {"role", k.role},
                     {"created_at", json_time(k.created_at)},
                     {"revoked", k.revoked_at.has_value()}});
    }
    print_json(out);
    return exit_ok;
  }
  if (keys.empty()) {
    std::cout << "No API keys. Create one with `encore-admin keys create --role R --name N`.\n";
    return exit_ok;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& k : keys) {
    rows.push_back({k.name, k.role, human_time(k.created_at), human_time(k.revoked_at)});
  }
  print_table({"NAME", "ROLE", "CREATED", "REVOKED"}, rows);
  return exit_ok;
}

int revoke_key(const Globals& g, const std::string& name) {
  auto store = open_current(g.db, OpenMode::read_write);
  store->never_checkpoint();  // a running server checkpoints (ledger/wal_reset_guard.h)
  WriteTransaction tx(*store);
  auto existing = store->api_key(name);
  if (!existing) {
    throw Failure("no key named '" + name + "'; `encore-admin keys list` shows the names");
  }
  bool already = existing->revoked_at.has_value();
  if (!already) {
    auto r = revoke_api_key(*store, name, SystemClock{}.now());
    if (!r) throw Failure(r.error().detail);
  }
  tx.commit();
  auto row = store->api_key(name);
  if (g.json) {
    print_json({{"name", name},
                {"revoked", true},
                {"revoked_at", json_time(row ? row->revoked_at : std::nullopt)},
                {"already_revoked", already}});
  } else if (already) {
    std::cout << "Key '" << name << "' was already revoked at "
              << human_time(row ? row->revoked_at : std::nullopt) << ".\n";
  } else {
    std::cout << "Revoked key '" << name << "'. A running server refuses it within 5 s.\n";
  }
  return exit_ok;
}

}  // namespace

CLI::Validator key_name_validator() {
  return CLI::Validator(
      [](std::string& value) -> std::string {
        return valid_member_id(value) ? std::string{}
                                      : "key names are 1-64 characters of [A-Za-z0-9._:-]";
      },
      "NAME");
}

void add_keys_commands(CLI::App& app, const Globals& g, Action& action) {
  auto* keys = app.add_subcommand("keys",
                                  "Create, list and revoke API keys (offline; allowed "
                                  "while a server runs)");
  keys->require_subcommand(1);
  keys->footer(examples({"encore-admin keys create --role pos --name store-12 --json",
                         "encore-admin keys list", "encore-admin keys revoke store-12"}));

  auto create = std::make_shared<CreateOptions>();
  auto* c = keys->add_subcommand("create", "Create an API key and print its secret (shown once)");
  c->add_option("--role", create->role, "pos, app or admin")
      ->required()
      ->check(CLI::IsMember({"pos", "app", "admin"}));
  c->add_option("--name", create->name, "Unique key name")->required()->check(key_name_validator());
  c->footer(
      examples({"encore-admin --db /var/lib/encore/encore.db keys create --role pos --name "
                "store-12 --json"}));
  c->callback([&g, &action, create] { action = [&g, create] { return create_key(g, *create); }; });

  auto* l = keys->add_subcommand("list", "List API keys (names, roles, dates; never secrets)");
  l->footer(examples({"encore-admin keys list --json"}));
  l->callback([&g, &action] { action = [&g] { return list_keys(g); }; });

  auto name = std::make_shared<std::string>();
  auto* r = keys->add_subcommand("revoke",
                                 "Revoke an API key (a running server refuses it "
                                 "within 5 s)");
  r->add_option("NAME", *name, "Name of the key")->required();
  r->footer(examples({"encore-admin keys revoke store-12"}));
  r->callback([&g, &action, name] { action = [&g, name] { return revoke_key(g, *name); }; });
}

}  // namespace encore::admin
